package storage

// Listener receives the notifications of one channel of a database shared
// by several Warden nodes (PostgreSQL's LISTEN/NOTIFY): what one node
// announces, every node hears. The engine's Listen calls it from one
// goroutine.
type Listener interface {
	// Sync is called each time listening starts, first or again after a
	// loss, before any Message: the listener reloads what it keeps, since
	// notifications sent while it was not listening are lost. A Sync that
	// fails counts as a loss.
	Sync() error
	// Message is called with the payload of each notification. An error
	// counts as a loss: the engine listens again and calls Sync.
	Message(payload string) error
	// Lost is called when listening stops (the connection failed, or Sync
	// or Message did), with the cause; until the next Sync, notifications
	// may be missed.
	Lost(err error)
}
