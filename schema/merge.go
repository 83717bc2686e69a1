package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// merge builds each server's effective configuration: the server's own
// value, else the global value, else the default. It reports required
// settings that no layer sets.
func (l *loader) merge(global map[string]Value, servers []*Server) []*Server {
	for _, s := range servers {
		own := s.values
		s.values = make(map[string]Value, len(settings))
		for _, st := range settings {
			if v, ok := own[st.Path]; ok {
				s.values[st.Path] = v
				continue
			}
			if v, ok := global[st.Path]; ok {
				s.values[st.Path] = v
				continue
			}
			if st.Required() {
				l.errorf(s.DeclRange, "Missing required setting",
					"Server %q has no %s; set it in the global block or in the server block.", s.Name, st.Path)
			}
			s.values[st.Path] = Value{Setting: st, Val: st.Default, Origin: Origin{Kind: FromDefault}}
		}
	}
	sort.SliceStable(servers, func(i, j int) bool { return servers[i].Name < servers[j].Name })
	return servers
}

// checkServers reports problems that involve several servers (duplicate
// names, and two servers on one agent address sharing a backup_path) or
// several settings of one (a backup_path inside the mail store).
func (l *loader) checkServers(servers []*Server) {
	byName := map[string]*Server{}
	for _, s := range servers {
		if prev, ok := byName[s.Name]; ok {
			l.errorf(s.DeclRange, "Duplicate server",
				"The server name %q is already used by the block at %s; server names must be unique (a block with for_each is named LABEL.KEY).",
				s.Name, rangeString(prev.DeclRange))
			continue
		}
		byName[s.Name] = s
	}
	for _, s := range servers {
		l.checkBackupPathStore(s)
	}
	type place struct{ addr, path string }
	byPath := map[place]*Server{}
	for _, s := range servers {
		bp := s.values["backup_path"]
		if s.Client.Address == "" || !bp.Val.IsKnown() || bp.Val.IsNull() {
			continue // an invalid address or backup_path is reported already
		}
		k := place{normalizeAddress(s.Client.Address), strings.TrimRight(bp.Val.AsString(), "/")}
		prev, ok := byPath[k]
		if !ok {
			byPath[k] = s
			continue
		}
		if prev.Name == s.Name {
			continue
		}
		rng := s.DeclRange
		if bp.Origin.Kind != FromDefault {
			rng = bp.Origin.Range
		}
		l.errorf(rng, "Shared backup_path",
			"Servers %q and %q both reach the agent at %s and both use backup_path %q; each server needs its own repository.",
			prev.Name, s.Name, s.Client.Address, bp.Val.AsString())
	}
}

// normalizeAddress makes equal addresses compare equal.
func normalizeAddress(a string) string {
	a = strings.TrimRight(a, "/")
	if i := strings.Index(a, "://"); i >= 0 && !strings.HasPrefix(a, "unix") {
		return strings.ToLower(a)
	}
	return a
}

// checkBackupPathStore reports a server whose backup_path and mail_store
// overlap, at the backup_path that was set (or at mail_store when
// backup_path is the default).
func (l *loader) checkBackupPathStore(s *Server) {
	bp, ms := s.values["backup_path"], s.values["mail_store"]
	for _, v := range []Value{bp, ms} {
		if v.Val == cty.NilVal || !v.Val.IsKnown() || v.Val.IsNull() {
			return // invalid or missing, and reported
		}
	}
	err := checkBackupPathStore(bp.Val.AsString(), ms.Val.AsString())
	if err == nil {
		return
	}
	origin := bp.Origin
	if origin.Kind == FromDefault {
		origin = ms.Origin
	}
	detail := fmt.Sprintf("Server %q: %s.", s.Name, err)
	if bp.Origin.Sensitive || ms.Origin.Sensitive {
		detail = fmt.Sprintf("Server %q: backup_path and mail_store overlap; the value comes from a sensitive variable, so it is not shown.", s.Name)
	}
	l.errorf(origin.Range, "Invalid backup_path", "%s%s", detail, l.viaDetail(origin))
}
