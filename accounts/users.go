package accounts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/session"
)

// Messages of GetAccount's refusals, as Nakama words them.
const (
	msgAccountNotFound = "Account not found."
	msgAccountError    = "Error retrieving user account."
)

// Account is what Warden stores about a user: the fields of Nakama's
// Account that it has.
type Account struct {
	// UserID is the user's UUID.
	UserID string
	// Username is the user's unique name.
	Username string
	// CustomID is the custom ID, or "".
	CustomID string
	// Email is the lowercased email address, or "".
	Email string
	// DeviceIDs are the user's device IDs, sorted.
	DeviceIDs []string
	// CreateTime is when the account was created, to the second.
	CreateTime time.Time
	// UpdateTime is when the account last changed, to the second.
	UpdateTime time.Time
}

// user is a row of warden_users as authentication needs it.
type user struct {
	id       string
	username string
	password []byte
}

// querier is what lookups need: *sql.DB or *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Lookups of a user by identity.
const (
	selectUser         = "SELECT id, username, password FROM warden_users WHERE "
	selectUserByCustom = selectUser + "custom_id = $1"
	selectUserByEmail  = selectUser + "email = $1"
	selectUserByName   = selectUser + "username = $1"
	selectUserByDevice = "SELECT u.id, u.username, u.password FROM warden_user_devices d " +
		"JOIN warden_users u ON u.id = d.user_id WHERE d.id = $1"
)

// findOrCreate returns the user that c names, and whether it was created:
// a username login (email without an address) only finds; the other kinds
// create the user when none matches and c.Create is set.
//
// # Errors
//
// Nakama's: 404 "User account not found." when there is no match and no
// creation, 401 "Invalid credentials." for a wrong password, 409 "Username
// is already in use." for a new account whose name is taken, and internal
// errors.
func (s *Service) findOrCreate(ctx context.Context, c Credentials) (user, bool, error) {
	if c.Kind == KindEmail && c.Email == "" {
		u, found, err := find(ctx, s.cfg.DB.Reader(), selectUserByName, c.Username)
		return u, false, s.checkFound(ctx, u, found, err, c)
	}
	query, key := lookup(c)
	u, found, err := find(ctx, s.cfg.DB.Reader(), query, key)
	if found || err != nil || !c.MayCreate() {
		return u, false, s.checkFound(ctx, u, found, err, c)
	}
	return s.create(ctx, c)
}

// lookup returns the query and argument that find c's user.
func lookup(c Credentials) (string, string) {
	switch c.Kind {
	case KindDevice:
		return selectUserByDevice, c.ID
	case KindEmail:
		return selectUserByEmail, c.Email
	}
	return selectUserByCustom, c.ID
}

// find runs a user lookup; found is false when no row matched.
func find(ctx context.Context, q querier, query, key string) (u user, found bool, err error) {
	err = q.QueryRowContext(ctx, query, key).Scan(&u.id, &u.username, &u.password)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return user{}, false, nil
	case err != nil:
		return user{}, false, fmt.Errorf("find user: %w", err)
	}
	return u, true, nil
}

// checkFound turns the outcome of a lookup of an existing user into
// Nakama's answer, checking the password of an email or username login.
func (s *Service) checkFound(ctx context.Context, u user, found bool, err error, c Credentials) error {
	switch {
	case err != nil:
		return internal(msgFindUser, err)
	case !found:
		return refuse(abi.CodeNotFound, msgUserNotFound, nil)
	case c.Kind != KindEmail:
		return nil
	case len(u.password) == 0:
		// An account without a password, from another kind: Nakama does not
		// tell this apart from a wrong password.
		return refuse(abi.CodeUnauthenticated, msgInvalidCredentials, nil)
	}
	err = s.hasher.compare(ctx, c.Client, u.password, c.Password)
	if e, ok := asRefusal(err); ok {
		return e
	}
	if err != nil {
		return refuse(abi.CodeUnauthenticated, msgInvalidCredentials, err)
	}
	return nil
}

// create creates c's user in one write transaction, which first looks the
// user up again (a concurrent request may have created it) and checks that
// the username is free. A password is hashed before the transaction, so
// that bcrypt's cost is not paid while holding the write lock, and after a
// first check of the username, so that it is not paid for a name already
// taken either.
func (s *Service) create(ctx context.Context, c Credentials) (user, bool, error) {
	var hash []byte
	if c.Kind == KindEmail {
		if err := usernameFree(ctx, s.cfg.DB.Reader(), c.Username); err != nil {
			return user{}, false, err
		}
		var err error
		if hash, err = s.hasher.hash(ctx, c.Client, c.Password); err != nil {
			if e, ok := asRefusal(err); ok {
				return user{}, false, e
			}
			return user{}, false, internal(msgFindOrCreateUser, fmt.Errorf("hash password: %w", err))
		}
	}
	tx, err := s.cfg.DB.Writer().BeginTx(ctx, nil)
	if err != nil {
		return user{}, false, internal(msgFindOrCreateUser, fmt.Errorf("begin: %w", err))
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	query, key := lookup(c)
	if u, found, err := find(ctx, tx, query, key); found || err != nil {
		return u, false, s.checkFound(ctx, u, found, err, c)
	}
	if err := usernameFree(ctx, tx, c.Username); err != nil {
		return user{}, false, err
	}
	u := user{id: session.NewTokenID(), username: c.Username, password: hash}
	if err := insertUser(ctx, tx, c, u, s.now().Unix()); s.conflict(err) {
		_ = tx.Rollback()
		return s.lostRace(ctx, c)
	} else if err != nil {
		return user{}, false, internal(msgFindOrCreateUser, err)
	}
	if err := tx.Commit(); err != nil {
		return user{}, false, internal(msgFindOrCreateUser, fmt.Errorf("commit: %w", err))
	}
	zerolog.Ctx(ctx).Info().Str("user_id", u.id).Msg("account created")
	return u, true, nil
}

// lostRace answers a creation that another node's won, in a cluster: the
// unique constraints refused the insert, as the other node created the same
// user, which is then found, or took the username, which is Nakama's 409.
func (s *Service) lostRace(ctx context.Context, c Credentials) (user, bool, error) {
	query, key := lookup(c)
	u, found, err := find(ctx, s.cfg.DB.Reader(), query, key)
	if found || err != nil {
		return u, false, s.checkFound(ctx, u, found, err, c)
	}
	return user{}, false, refuse(abi.CodeAlreadyExists, msgUsernameInUse, nil)
}

// usernameFree returns nil when no user has the username name.
//
// # Errors
//
// Nakama's 409 "Username is already in use." and internal errors.
func usernameFree(ctx context.Context, q querier, name string) error {
	var taken int
	if err := q.QueryRowContext(ctx, "SELECT count(*) FROM warden_users WHERE username = $1", name).Scan(&taken); err != nil {
		return internal(msgFindOrCreateUser, fmt.Errorf("check username: %w", err))
	}
	if taken > 0 {
		return refuse(abi.CodeAlreadyExists, msgUsernameInUse, nil)
	}
	return nil
}

// insertUser inserts u, and its device when c is a device ID.
func insertUser(ctx context.Context, tx *sql.Tx, c Credentials, u user, now int64) error {
	var customID, email any
	switch c.Kind {
	case KindCustom:
		customID = c.ID
	case KindEmail:
		email = c.Email
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO warden_users (id, username, custom_id, email, password, create_time, update_time)
VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.id, u.username, customID, email, u.password, now, now)
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	if c.Kind == KindDevice {
		if _, err := tx.ExecContext(ctx, "INSERT INTO warden_user_devices (id, user_id) VALUES ($1, $2)", c.ID, u.id); err != nil {
			return fmt.Errorf("insert device: %w", err)
		}
	}
	return nil
}

// Account returns the account of the user whose UUID is userID.
//
// # Errors
//
// Nakama's 404 "Account not found." when there is no such user, and 500
// "Error retrieving user account." when the database fails.
func (s *Service) Account(ctx context.Context, userID string) (*Account, error) {
	db := s.cfg.DB.Reader()
	a := Account{UserID: userID}
	var customID, email sql.NullString
	var created, updated int64
	err := db.QueryRowContext(ctx, "SELECT username, custom_id, email, create_time, update_time FROM warden_users WHERE id = $1",
		userID).Scan(&a.Username, &customID, &email, &created, &updated)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, refuse(abi.CodeNotFound, msgAccountNotFound, nil)
	case err != nil:
		return nil, s.unavailable(internal(msgAccountError, fmt.Errorf("get account: %w", err)))
	}
	a.CustomID, a.Email = customID.String, email.String
	a.CreateTime, a.UpdateTime = time.Unix(created, 0).UTC(), time.Unix(updated, 0).UTC()
	rows, err := db.QueryContext(ctx, "SELECT id FROM warden_user_devices WHERE user_id = $1 ORDER BY id", userID)
	if err != nil {
		return nil, s.unavailable(internal(msgAccountError, fmt.Errorf("get devices: %w", err)))
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, s.unavailable(internal(msgAccountError, fmt.Errorf("get devices: %w", err)))
		}
		a.DeviceIDs = append(a.DeviceIDs, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.unavailable(internal(msgAccountError, fmt.Errorf("get devices: %w", err)))
	}
	return &a, nil
}

// username returns the current username of userID, for a refresh.
//
// # Errors
//
// Nakama's 404 "User account not found." and internal errors.
func (s *Service) username(ctx context.Context, userID string) (string, error) {
	var name string
	err := s.cfg.DB.Reader().QueryRowContext(ctx, "SELECT username FROM warden_users WHERE id = $1", userID).Scan(&name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", refuse(abi.CodeNotFound, msgUserNotFound, nil)
	case err != nil:
		return "", internal(msgFindUser, fmt.Errorf("get username: %w", err))
	}
	return name, nil
}
