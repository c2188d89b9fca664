package manifest

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// schema is a table of the manifest: each key's own table, or nil for a
// key that holds a value.
type schema map[string]schema

// known returns the manifest's keys: the toml tags of Manifest's fields,
// so that the names have one home.
func known() schema { return schemaOf(reflect.TypeFor[Manifest]()) }

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// schemaOf returns the keys of struct type t: a struct field is a table,
// but for one that decodes from text (Duration), which is a value. It
// panics on an exported field without a toml tag, whose key go-toml would
// take in any case.
func schemaOf(t reflect.Type) schema {
	s := schema{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			panic(fmt.Sprintf("manifest: field %s.%s has no toml tag", t.Name(), f.Name))
		}
		if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(textUnmarshaler) {
			s[name] = schemaOf(f.Type)
		} else {
			s[name] = nil
		}
	}
	return s
}

// checkKeys refuses a manifest with a key outside the schema, spelled
// otherwise than documented (TOML keys are case-sensitive; go-toml's
// decoding is not, and would let [ENV] ALLOW replace [env] allow), or
// given twice in any form TOML allows (as a table, a dotted key or an
// inline table). It stops at the first such key, so that a file of
// unknown tables costs one pass, and names it with its line. Bad TOML is
// left to the decoder, which reports it with its position.
func checkKeys(data []byte) error {
	c := keyCheck{root: known(), defined: map[string]definition{}}
	c.p.Reset(data)
	var table []string // the current [table]
	for c.p.NextExpression() {
		e := c.p.Expression()
		var err error
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table, err = c.header(e)
		case unstable.KeyValue:
			err = c.keyValue(table, e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// keyCheck is the state of checkKeys.
type keyCheck struct {
	p       unstable.Parser
	root    schema
	defined map[string]definition // by path, parts joined by "."
}

// definition is where a key was first given, and whether only as a
// dotted key's table, which later dotted keys may extend.
type definition struct {
	offset uint32
	dotted bool
}

// header checks a [table] or [[table]] and returns its path.
func (c *keyCheck) header(e *unstable.Node) ([]string, error) {
	path, at, err := c.resolve(nil, e.Key(), true)
	if err != nil {
		return nil, err
	}
	if e.Kind == unstable.ArrayTable {
		return nil, fmt.Errorf("[[%s]] (line %d): the manifest has no array of tables", keyPath(path), c.line(at))
	}
	return path, c.define("table", path, at, false)
}

// keyValue checks a key = value under table: a table's value must be an
// inline table, whose keys are checked in turn, and a value's must hold
// none.
func (c *keyCheck) keyValue(table []string, e *unstable.Node) error {
	path, at, err := c.resolve(table, e.Key(), false)
	if err != nil {
		return err
	}
	v := e.Value()
	if c.lookup(path) == nil {
		if holdsTable(v) {
			return fmt.Errorf("%s (line %d) is a value, not a table", keyPath(path), c.line(at))
		}
		return c.define("key", path, at, false)
	}
	if v.Kind != unstable.InlineTable {
		return fmt.Errorf("%s (line %d) is a table, not a value", keyPath(path), c.line(at))
	}
	if err := c.define("table", path, at, false); err != nil {
		return err
	}
	for it := v.Children(); it.Next(); {
		if kv := it.Node(); kv.Kind == unstable.KeyValue {
			if err := c.keyValue(path, kv); err != nil {
				return err
			}
		}
	}
	return nil
}

// holdsTable reports whether a value is or holds an inline table, which
// no value of the manifest is (a map field would be one; there is none,
// and its tables would be refused, not let through). Refused here, its
// keys are never decoded: go-toml takes quadratic time over an inline
// table of thousands of keys.
func holdsTable(v *unstable.Node) bool {
	switch v.Kind {
	case unstable.InlineTable:
		return true
	case unstable.Array:
		for it := v.Children(); it.Next(); {
			if holdsTable(it.Node()) {
				return true
			}
		}
	}
	return false
}

// resolve appends key's parts to base, each of which must be a key of the
// schema spelled exactly, and every part but the last a table (the last
// too in a header). A dotted key's tables are defined as it goes. It
// returns the path and the offset of its last part.
func (c *keyCheck) resolve(base []string, key unstable.Iterator, header bool) ([]string, uint32, error) {
	path := slices.Clone(base)
	s := c.lookup(base)
	var at uint32
	for first := true; key.Next(); first = false {
		if !first { // path names a table, a dotted key's
			if s == nil {
				return nil, 0, fmt.Errorf("%s (line %d) is a value, not a table", keyPath(path), c.line(at))
			}
			if !header {
				if err := c.define("table", path, at, true); err != nil {
					return nil, 0, err
				}
			}
		}
		k := key.Node()
		sub, ok := s[string(k.Data)]
		path, at = append(path, string(k.Data)), k.Raw.Offset
		if !ok {
			return nil, 0, c.unknown(path, at)
		}
		s = sub
	}
	if header && s == nil {
		return nil, 0, fmt.Errorf("%s (line %d) is a value, not a table", keyPath(path), c.line(at))
	}
	return path, at, nil
}

// lookup returns the schema of a path resolve checked.
func (c *keyCheck) lookup(path []string) schema {
	s := c.root
	for _, k := range path {
		s = s[k]
	}
	return s
}

// define records that path is given at offset, refusing a second time:
// but a dotted key's table, which further dotted keys may extend.
func (c *keyCheck) define(what string, path []string, at uint32, dotted bool) error {
	id := strings.Join(path, ".") // schema keys hold no dot
	if d, ok := c.defined[id]; ok {
		if d.dotted && dotted {
			return nil
		}
		return fmt.Errorf("%s %s given twice (lines %d and %d)", what, keyPath(path), c.line(d.offset), c.line(at))
	}
	c.defined[id] = definition{at, dotted}
	return nil
}

// unknown is the error of a key outside the schema, whose last part is
// the unknown one; it names the documented spelling of a case variant.
func (c *keyCheck) unknown(path []string, at uint32) error {
	msg := fmt.Sprintf("unknown key %s (line %d)", keyPath(path), c.line(at))
	parent, last := path[:len(path)-1:len(path)-1], path[len(path)-1]
	for k := range c.lookup(parent) {
		if strings.EqualFold(k, last) {
			msg += fmt.Sprintf(", not %s: keys are case-sensitive", keyPath(append(parent, k)))
		}
	}
	return errors.New(msg)
}

// line returns the line of a byte offset of the document.
func (c *keyCheck) line(offset uint32) int {
	return c.p.Shape(unstable.Range{Offset: offset}).Start.Line
}

// keyPath writes a key path as TOML would: a part that is not a bare key is
// quoted.
func keyPath(path []string) string {
	parts := make([]string, len(path))
	for i, k := range path {
		parts[i] = k
		if k == "" || strings.ContainsFunc(k, func(r rune) bool {
			return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		}) {
			parts[i] = strconv.Quote(k)
		}
	}
	return strings.Join(parts, ".")
}
