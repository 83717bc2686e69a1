package schema

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/zclconf/go-cty/cty"
)

// Config is a config document's settings as typed Go values, for the code
// that acts on them. Each field names its setting in a `setting` tag; a
// struct field is a nested block and its fields are the block's
// attributes. The field list is checked against the settings table when
// the package is loaded: a tag that names no setting, or a field whose Go
// type does not match the setting's type, panics at start-up, and a
// setting without a field fails TestConfigCoversEverySetting. So a
// mistyped setting path cannot compile (it is a field name) and the table
// and the struct cannot drift apart.
type Config struct {
	Description        string `setting:"description"`
	MailStore          string `setting:"mail_store"`
	MailStoreSymlinks  string `setting:"mail_store_symlinks"`
	BackupPath         string `setting:"backup_path"`
	RealtimeScanner    bool   `setting:"realtime_scanner"`
	EnabledAtStartup   bool   `setting:"enabled_at_startup"`
	SmartScanAtStartup bool   `setting:"smartscan_at_startup"`

	ReservedSpace ReservedSpaceConfig `setting:"reserved_space"`
	SmartScan     JobConfig           `setting:"smartscan"`
	Purge         PurgeConfig         `setting:"purge"`
	Include       IncludeConfig       `setting:"include"`
	Index         IndexConfig         `setting:"index"`
	Metadata      MetadataConfig      `setting:"metadata"`
	Restore       RestoreConfig       `setting:"restore"`
	Accounts      AccountsConfig      `setting:"accounts"`
	LegalHold     LegalHoldConfig     `setting:"legal_hold"`
	Remote        RemoteConfig        `setting:"remote"`
}

// ReservedSpaceConfig is the reserved_space block: space, in MiB, that
// backups leave free on the backup and metadata filesystems.
type ReservedSpaceConfig struct {
	BackupMB   int64 `setting:"backup_mb"`
	MetadataMB int64 `setting:"metadata_mb"`
}

// JobConfig is a scheduled job's block (smartscan).
type JobConfig struct {
	Enabled  bool   `setting:"enabled"`
	Schedule string `setting:"schedule"`
	Timezone string `setting:"timezone"`
}

// PurgeConfig is the purge block: a scheduled job and its retentions.
type PurgeConfig struct {
	Enabled              bool   `setting:"enabled"`
	Schedule             string `setting:"schedule"`
	Timezone             string `setting:"timezone"`
	ItemRetentionDays    int64  `setting:"item_retention_days"`
	AccountRetentionDays int64  `setting:"account_retention_days"`
}

// Job returns the purge block's schedule settings.
func (p PurgeConfig) Job() JobConfig {
	return JobConfig{Enabled: p.Enabled, Schedule: p.Schedule, Timezone: p.Timezone}
}

// IncludeConfig is the include block: what is backed up beside the mail.
type IncludeConfig struct {
	LDAPDump        bool `setting:"ldap_dump"`
	ServerConfig    bool `setting:"server_config"`
	PurgeOldConfigs bool `setting:"purge_old_configs"`
}

// IndexConfig is the index block: the search-index export.
type IndexConfig struct {
	Enabled     bool   `setting:"enabled"`
	Engine      string `setting:"engine"`
	Compression string `setting:"compression"`
	MaxSizeMB   int64  `setting:"max_size_mb"`
}

// MetadataConfig is the metadata block.
type MetadataConfig struct {
	FlushOnSave     bool `setting:"flush_on_save"`
	ArchiveInRemote bool `setting:"archive_in_remote"`
}

// RestoreConfig is the restore block.
type RestoreConfig struct {
	PostCommand     []string `setting:"post_command"`
	PostCommandUser string   `setting:"post_command_user"`
}

// AccountsConfig is the accounts block: which accounts are backed up.
type AccountsConfig struct {
	Include []string `setting:"include"`
	Exclude []string `setting:"exclude"`
}

// LegalHoldConfig is the legal_hold block: accounts the purge never drops.
type LegalHoldConfig struct {
	Accounts []string `setting:"accounts"`
}

// RemoteConfig is the remote block: the copy on S3-compatible storage.
type RemoteConfig struct {
	Enabled         bool   `setting:"enabled"`
	Endpoint        string `setting:"endpoint"`
	Region          string `setting:"region"`
	Bucket          string `setting:"bucket"`
	Prefix          string `setting:"prefix"`
	PathStyle       bool   `setting:"path_style"`
	Profile         string `setting:"profile"`
	CredentialsFile string `setting:"credentials_file"`
}

// configField is one leaf of Config: where it is and which setting it holds.
type configField struct {
	index []int
	path  string
}

// configFields is Config's leaves in field order, built and checked once.
var configFields = sync.OnceValue(func() []configField {
	var out []configField
	if err := walkConfig(reflect.TypeFor[Config](), nil, "", &out); err != nil {
		panic("schema: " + err.Error())
	}
	return out
})

func init() { configFields() }

// walkConfig collects the leaves of the struct type t, checking each
// against the settings table.
func walkConfig(t reflect.Type, index []int, prefix string, out *[]configField) error {
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := f.Tag.Lookup("setting")
		if !ok {
			return fmt.Errorf("Config field %s has no setting tag", f.Name)
		}
		idx := append(append([]int(nil), index...), i)
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		if f.Type.Kind() == reflect.Struct {
			if prefix != "" {
				return fmt.Errorf("Config field %s: blocks nest one level deep", f.Name)
			}
			if err := walkConfig(f.Type, idx, path, out); err != nil {
				return err
			}
			continue
		}
		st, ok := LookupSetting(path)
		if !ok {
			return fmt.Errorf("Config field %s names setting %q, which does not exist", f.Name, path)
		}
		if want := goTypeOf(st.Type); want != f.Type {
			return fmt.Errorf("Config field %s (setting %s) is %s, the setting holds %s", f.Name, path, f.Type, want)
		}
		*out = append(*out, configField{index: idx, path: path})
	}
	return nil
}

// goTypeOf returns the Go type a Config field holding a setting of cty
// type ty has.
func goTypeOf(ty cty.Type) reflect.Type {
	switch {
	case ty == cty.String:
		return reflect.TypeFor[string]()
	case ty == cty.Bool:
		return reflect.TypeFor[bool]()
	case ty == cty.Number:
		return reflect.TypeFor[int64]()
	case ty.IsListType() && ty.ElementType() == cty.String:
		return reflect.TypeFor[[]string]()
	}
	return nil
}

// Config returns the document's settings as typed values.
func (d *Document) Config() Config {
	var c Config
	v := reflect.ValueOf(&c).Elem()
	for _, f := range configFields() {
		fv := v.FieldByIndex(f.index)
		val := d.values[f.path]
		if val.IsNull() || !val.IsKnown() {
			continue
		}
		switch fv.Kind() {
		case reflect.String:
			fv.SetString(val.AsString())
		case reflect.Bool:
			fv.SetBool(val.True())
		case reflect.Int64:
			i, _ := val.AsBigFloat().Int64()
			fv.SetInt(i)
		case reflect.Slice:
			list := make([]string, 0, val.LengthInt())
			for it := val.ElementIterator(); it.Next(); {
				_, e := it.Element()
				list = append(list, e.AsString())
			}
			fv.Set(reflect.ValueOf(list))
		}
	}
	return c
}
