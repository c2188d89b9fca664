package interrupt

import (
	"fmt"
)

// The sections below pass to wazero as they are, but wazero sizes its
// slices by the counts they declare before it reads the entries: a
// section of a few bytes that declares 2^32 types, functions, tables,
// parameters or names would make it allocate gigabytes. Each count is
// checked against the bytes that follow it first.

// vector reads a vector whose entries take at least min bytes each,
// reading each entry with entry.
func vector(r *reader, min int, entry func() error) error {
	n, err := r.count(min)
	if err != nil {
		return err
	}
	for range n {
		if err := entry(); err != nil {
			return err
		}
	}
	return nil
}

// typeSection reads the type section: function types, each a vector of
// parameters and one of results.
func typeSection(r *reader) ([]funcType, error) {
	var types []funcType
	err := vector(r, 3, func() error {
		form, err := r.byte()
		if err != nil {
			return err
		}
		if form != 0x60 {
			return fmt.Errorf("type form %#x: not a function type", form)
		}
		var t funcType
		for i := range 2 { // parameters, then results
			n := &t.params
			if i == 1 {
				n = &t.results
			}
			if err := vector(r, 1, func() error {
				*n++
				at := r.pos
				err := valType(r)
				if i == 1 && err == nil {
					t.resultTypes = append(t.resultTypes, r.b[at:r.pos]...)
				}
				return err
			}); err != nil {
				return err
			}
		}
		types = append(types, t)
		return nil
	})
	return types, err
}

// funcType is a function type's counts of parameters and results, and
// its results' value types as written.
type funcType struct {
	params, results uint64
	resultTypes     []byte
}

// nameSection reads the contents of the "name" custom section, which
// wazero decodes: the module's name, then the function names and the
// local names, each a map from index to name. Other subsections are
// skipped by their size.
func nameSection(r *reader) error {
	nameMap := func(sub *reader) error {
		return vector(sub, 2, func() error {
			if _, err := sub.u32(); err != nil {
				return err
			}
			_, err := sub.name()
			return err
		})
	}
	for r.left() > 0 {
		id, err := r.byte()
		if err != nil {
			return err
		}
		size, err := r.u32()
		if err != nil {
			return err
		}
		at := r.offset()
		b, err := r.bytes(uint64(size))
		if err != nil {
			return fmt.Errorf("name subsection %d: %w", id, err)
		}
		sub := &reader{b: b, base: at}
		switch id {
		case 1: // function names
			err = nameMap(sub)
		case 2: // local names: function index, then a name map
			err = vector(sub, 2, func() error {
				if _, err := sub.u32(); err != nil {
					return err
				}
				return nameMap(sub)
			})
		}
		if err != nil {
			return fmt.Errorf("name subsection %d: %w", id, err)
		}
	}
	return nil
}
