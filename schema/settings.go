package schema

import (
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// Setting describes one backup-policy setting: its dotted path
// ("purge.item_retention_days"), type, default and the checks its values
// must pass. Settings may stand in the global block and in server blocks.
type Setting struct {
	// Path is the setting's name; a dot separates a nested block from the
	// attribute inside it.
	Path string
	// Type is the cty type values are converted to.
	Type cty.Type
	// Default is the value used when neither global nor server sets it.
	// A null Default marks a required setting.
	Default cty.Value
	// Checks validate a converted, known, non-null value.
	Checks []check
	// Active reports whether this version of mailkeep has the machinery
	// behind the setting. Inactive settings are accepted, stored and shown
	// as "not active in this version", never silently ignored.
	Active bool
	// Doc is a one-line description shown by tools and documentation.
	Doc string
}

// Block returns the nested block a setting lives in, or "" for a top-level
// setting.
func (s *Setting) Block() string {
	if i := strings.IndexByte(s.Path, '.'); i >= 0 {
		return s.Path[:i]
	}
	return ""
}

// Attr returns the setting's attribute name inside its block.
func (s *Setting) Attr() string {
	return s.Path[strings.IndexByte(s.Path, '.')+1:]
}

// Required reports whether the setting has no default.
func (s *Setting) Required() bool { return s.Default.IsNull() }

// Default values that are not obvious from the product brief; documented in
// docs/POLICY.md.
const (
	DefaultBackupPath          = "/opt/mailkeep/backup"
	DefaultReservedBackupMB    = 2048
	DefaultReservedMetadataMB  = 512
	DefaultSmartScanSchedule   = "0 4 * * *"
	DefaultPurgeSchedule       = "0 4 * * 6"
	DefaultItemRetentionDays   = 30
	DefaultAccountRetentionDay = 30
)

var (
	emptyList = cty.ListValEmpty(cty.String)
	strList   = cty.List(cty.String)
)

// settings is the table of every setting, in the order documents and
// listings show them. Keep docs/POLICY.md in step with it.
var settings = []*Setting{
	{Path: "description", Type: cty.String, Default: cty.StringVal(""), Active: true,
		Doc: "free text shown in the server listing"},
	{Path: "mail_store", Type: cty.String, Default: cty.NullVal(cty.String), Checks: []check{checkMailStore}, Active: true,
		Doc: "the mail store and its layout in Dovecot mail_location syntax, e.g. maildir:/var/vmail/%d/%n/Maildir"},
	{Path: "backup_path", Type: cty.String, Default: cty.StringVal(DefaultBackupPath), Checks: []check{checkBackupPath}, Active: true,
		Doc: "where this server's backup repository lives; one per server, never shared"},
	{Path: "realtime_scanner", Type: cty.Bool, Default: cty.True, Active: true,
		Doc: "back up every change as it happens"},
	{Path: "enabled_at_startup", Type: cty.Bool, Default: cty.True, Active: true,
		Doc: "the backup module starts with the agent"},
	{Path: "smartscan_at_startup", Type: cty.Bool, Default: cty.False, Active: true,
		Doc: "run a SmartScan when the module starts (slow on big stores)"},

	{Path: "reserved_space.backup_mb", Type: cty.Number, Default: cty.NumberIntVal(DefaultReservedBackupMB), Checks: []check{checkWholeNonNegative}, Active: true,
		Doc: "free space in MB to keep on the filesystem holding the backup blobs"},
	{Path: "reserved_space.metadata_mb", Type: cty.Number, Default: cty.NumberIntVal(DefaultReservedMetadataMB), Checks: []check{checkWholeNonNegative}, Active: true,
		Doc: "free space in MB to keep on the filesystem holding the metadata"},

	{Path: "smartscan.enabled", Type: cty.Bool, Default: cty.True, Active: true,
		Doc: "run SmartScan on its schedule"},
	{Path: "smartscan.schedule", Type: cty.String, Default: cty.StringVal(DefaultSmartScanSchedule), Checks: []check{checkCron}, Active: true,
		Doc: "cron expression (5 fields or a descriptor such as @daily)"},
	{Path: "smartscan.timezone", Type: cty.String, Default: cty.StringVal(""), Checks: []check{checkTimezone}, Active: true,
		Doc: `IANA time zone of the schedule; "" is the agent's local zone`},

	{Path: "purge.enabled", Type: cty.Bool, Default: cty.True, Active: true,
		Doc: "run the retention purge on its schedule"},
	{Path: "purge.schedule", Type: cty.String, Default: cty.StringVal(DefaultPurgeSchedule), Checks: []check{checkCron}, Active: true,
		Doc: "cron expression (5 fields or a descriptor such as @weekly)"},
	{Path: "purge.timezone", Type: cty.String, Default: cty.StringVal(""), Checks: []check{checkTimezone}, Active: true,
		Doc: `IANA time zone of the schedule; "" is the agent's local zone`},
	{Path: "purge.item_retention_days", Type: cty.Number, Default: cty.NumberIntVal(DefaultItemRetentionDays), Checks: []check{checkWholeNonNegative}, Active: true,
		Doc: "days deleted items stay restorable; 0 disables the item purge"},
	{Path: "purge.account_retention_days", Type: cty.Number, Default: cty.NumberIntVal(DefaultAccountRetentionDay), Checks: []check{checkWholeNonNegative}, Active: true,
		Doc: "days deleted accounts stay restorable; 0 disables the account purge"},

	{Path: "include.ldap_dump", Type: cty.Bool, Default: cty.False,
		Doc: "also back up an LDAP dump"},
	{Path: "include.server_config", Type: cty.Bool, Default: cty.False,
		Doc: "also back up the mail server's configuration files"},
	{Path: "include.purge_old_configs", Type: cty.Bool, Default: cty.True,
		Doc: "apply retention to old configuration archives"},

	{Path: "index.enabled", Type: cty.Bool, Default: cty.False,
		Doc: "save the mailbox search index in the backup"},
	{Path: "index.engine", Type: cty.String, Default: cty.StringVal("auto"), Checks: []check{checkOneOf("auto", "flatcurve", "xapian", "solr", "squat")},
		Doc: "which full-text index to save; auto detects it from the Dovecot configuration"},
	{Path: "index.compression", Type: cty.String, Default: cty.StringVal("zstd"), Checks: []check{checkOneOf("zstd", "none")},
		Doc: "how saved index files are compressed"},
	{Path: "index.max_size_mb", Type: cty.Number, Default: cty.NumberIntVal(0), Checks: []check{checkWholeNonNegative},
		Doc: "skip indexes larger than this many MB per account; 0 means no limit"},

	{Path: "metadata.flush_on_save", Type: cty.Bool, Default: cty.True, Active: true,
		Doc: "make metadata durable on disk at every save"},
	{Path: "metadata.archive_in_remote", Type: cty.Bool, Default: cty.True,
		Doc: "include the per-account metadata in the remote backup"},

	{Path: "restore.post_command", Type: strList, Default: emptyList, Checks: []check{checkCommand}, Active: true,
		Doc: `command run after each restore, %u is the account, e.g. ["doveadm", "force-resync", "-u", "%u", "*"]`},
	{Path: "restore.post_command_user", Type: cty.String, Default: cty.StringVal("root"), Checks: []check{checkUserName}, Active: true,
		Doc: `user post_command runs as, with its groups: a name or a numeric uid on the mail server; "root" runs it as the agent`},

	{Path: "accounts.include", Type: strList, Default: cty.ListVal([]cty.Value{cty.StringVal("*")}), Checks: []check{checkGlobs}, Active: true,
		Doc: "accounts to back up, as user@domain shell globs"},
	{Path: "accounts.exclude", Type: strList, Default: emptyList, Checks: []check{checkGlobs}, Active: true,
		Doc: "accounts not to back up; excluded accounts count as deleted and are purged after account retention"},

	{Path: "legal_hold.accounts", Type: strList, Default: emptyList, Checks: []check{checkGlobs}, Active: true,
		Doc: "accounts (user@domain shell globs) whose history is never purged"},

	{Path: "remote.enabled", Type: cty.Bool, Default: cty.False,
		Doc: "copy the backup to S3-compatible object storage"},
	{Path: "remote.endpoint", Type: cty.String, Default: cty.StringVal(""), Checks: []check{checkEndpoint},
		Doc: `S3 endpoint URL; "" means AWS S3`},
	{Path: "remote.region", Type: cty.String, Default: cty.StringVal(""),
		Doc: "S3 region"},
	{Path: "remote.bucket", Type: cty.String, Default: cty.StringVal(""),
		Doc: "bucket name"},
	{Path: "remote.prefix", Type: cty.String, Default: cty.StringVal(""),
		Doc: "key prefix inside the bucket"},
	{Path: "remote.path_style", Type: cty.Bool, Default: cty.False,
		Doc: "address the bucket in the URL path (MinIO, Ceph RGW and most gateways)"},
	{Path: "remote.profile", Type: cty.String, Default: cty.StringVal(""),
		Doc: "profile of the standard AWS credential chain on the agent's machine"},
	{Path: "remote.credentials_file", Type: cty.String, Default: cty.StringVal(""), Checks: []check{checkOptionalAbsPath},
		Doc: "path of an AWS shared credentials file on the agent's machine"},
}

// Settings returns the table of every setting, in document order.
func Settings() []*Setting { return settings }

// settingByPath indexes settings by path.
var settingByPath = func() map[string]*Setting {
	m := make(map[string]*Setting, len(settings))
	for _, s := range settings {
		m[s.Path] = s
	}
	return m
}()

// LookupSetting returns the setting with the given dotted path.
func LookupSetting(path string) (*Setting, bool) {
	s, ok := settingByPath[path]
	return s, ok
}

// nestedBlocks lists the nested block names in document order.
var nestedBlocks = func() []string {
	var names []string
	seen := map[string]bool{}
	for _, s := range settings {
		if b := s.Block(); b != "" && !seen[b] {
			seen[b] = true
			names = append(names, b)
		}
	}
	return names
}()

// blockSettings returns the settings of one nested block ("" for the
// top-level ones).
func blockSettings(block string) []*Setting {
	var out []*Setting
	for _, s := range settings {
		if s.Block() == block {
			out = append(out, s)
		}
	}
	return out
}

// settingPaths returns every setting path sorted, for messages.
func settingPaths() []string {
	out := make([]string, 0, len(settings))
	for _, s := range settings {
		out = append(out, s.Path)
	}
	sort.Strings(out)
	return out
}
