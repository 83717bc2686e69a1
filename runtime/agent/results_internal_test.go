package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/mailkeep/mailkeep/runtime/agent/api"
	"github.com/mailkeep/mailkeep/runtime/export"
	"github.com/mailkeep/mailkeep/runtime/history"
	"github.com/mailkeep/mailkeep/runtime/purge"
	"github.com/mailkeep/mailkeep/runtime/realtime"
	"github.com/mailkeep/mailkeep/runtime/repo"
	"github.com/mailkeep/mailkeep/runtime/restore"
	"github.com/mailkeep/mailkeep/runtime/scan"
)

// filler sets every exported field of a value to a value of its own, so
// that a field missing from the other side of a pair shows in its JSON.
type filler struct{ n int }

func (f *filler) fill(v reflect.Value) {
	f.n++
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("s%d", f.n))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(f.n))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(f.n))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(f.n) + 0.25)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			f.fill(s.Index(i))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			f.fill(k)
			f.fill(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, f.n, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	default:
		panic("filler: no value for " + v.Type().String())
	}
}

// filled returns a T with every exported field set.
func filled[T any]() *T {
	var v T
	(&filler{}).fill(reflect.ValueOf(&v).Elem())
	return &v
}

// sameJSON fails unless a and b encode to the same bytes.
func sameJSON(t *testing.T, name string, a, b any) {
	t.Helper()
	ja, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ja, jb) {
		t.Errorf("%s: the api type's JSON differs from the engine's:\nengine %s\napi    %s", name, ja, jb)
	}
}

// checkPair fills an engine type, converts it as the agent does and
// compares the two encodings.
func checkPair[T, S any](t *testing.T) {
	t.Helper()
	src := filled[S]()
	sameJSON(t, fmt.Sprintf("%T → %T", src, new(T)), src, toAPI[T](src))
}

// TestAPIResultsMatchEngines: every engine result the agent sends has an
// api type with the same JSON, field for field, so that converting it
// changes nothing on the wire and a field added to an engine's result
// but not to the api type fails here rather than vanish.
func TestAPIResultsMatchEngines(t *testing.T) {
	checkPair[api.ScanResult, scan.Result](t)
	checkPair[api.PurgeResult, purge.Result](t)
	checkPair[api.RestoreResult, restore.Result](t)
	checkPair[api.LiveRestoreResult, restore.LiveResult](t)
	checkPair[api.VerifyReport, repo.VerifyReport](t)
	checkPair[[]api.Event, []history.Event](t)
	checkPair[api.Diff, history.Diff](t)
	checkPair[api.RealtimeDetail, realtime.Status](t)
	checkPair[api.ExportSummary, export.Summary](t)

	// The flat types are converted by Go conversions, which ignore tags.
	rs := filled[realtime.Status]()
	sameJSON(t, "realtime.Status", rs, api.RealtimeDetail(*rs))
	es := filled[export.Summary]()
	sameJSON(t, "export.Summary", es, api.ExportSummary(*es))
}

// TestAPIResultNilStaysNil: an operation that failed without a result
// still shows "result": null.
func TestAPIResultNilStaysNil(t *testing.T) {
	var res *scan.Result
	op := api.Operation{Result: toAPI[api.ScanResult](res)}
	b, _ := json.Marshal(op)
	if !bytes.Contains(b, []byte(`"result":null`)) {
		t.Errorf("a nil result encodes as %s", b)
	}
}
