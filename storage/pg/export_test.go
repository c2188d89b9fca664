package pg

// WithoutPolicy makes db's sessions skip the statement policy, so that a
// test reaches the lines of defence behind it as a statement that the
// policy missed would.
func WithoutPolicy(db *DB) { db.policy = func(string) (bool, error) { return false, nil } }

// Deletes is deletes, for its table test.
var Deletes = deletes
