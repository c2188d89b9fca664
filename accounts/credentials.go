package accounts

import (
	"math/rand/v2"
	"net/netip"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/warden-rpc/warden/abi"
)

// Kind is the kind of identity a client authenticates with.
type Kind int

// Kinds of identity, one per authenticate endpoint.
const (
	// KindCustom is a custom ID of 6 to 128 bytes, from the game's own
	// identity system.
	KindCustom Kind = iota + 1
	// KindDevice is a device ID of 10 to 128 bytes.
	KindDevice
	// KindEmail is an email address and password, or a username and
	// password when the email address is empty.
	KindEmail
)

// Credentials is one authentication request, as Nakama's
// AuthenticateCustomRequest, AuthenticateDeviceRequest and
// AuthenticateEmailRequest carry it.
type Credentials struct {
	// Kind selects the identity.
	Kind Kind
	// ID is the custom or device ID.
	ID string
	// Email is the email address of KindEmail; empty for a username login.
	Email string
	// Password is the password of KindEmail.
	Password string
	// Username is the name of a new account, or of a username login; a new
	// account without one gets a random 10-letter name.
	Username string
	// Create allows creating the account when none matches. Nakama's create
	// query parameter, true when absent.
	Create bool
	// Vars are the session variables the tokens carry.
	Vars map[string]string
	// NoAccount reports a request without any account body, which Nakama
	// tells apart from an empty one for email.
	NoAccount bool
	// Client is the client's address, for its share of the password
	// hashing pool (Config.HashPerClient); the zero Addr takes no share.
	Client netip.Addr
}

// MayCreate reports whether authenticating c may create an account: Create
// is set and c is not a username login (an email without an address), which
// only finds.
func (c Credentials) MayCreate() bool {
	return c.Create && !(c.Kind == KindEmail && c.Email == "")
}

// Nakama's validation rules, regular expressions included, so that the same
// input is accepted and refused. The username expression is Nakama's as
// written: it refuses control characters and also the two characters "[]"
// in a row, and it allows spaces despite its message.
var (
	invalidCharsRegex    = regexp.MustCompilePOSIX("([[:cntrl:]]|[[:space:]])+")
	invalidUsernameRegex = regexp.MustCompilePOSIX("([[:cntrl:]]|[[\t\n\r\f\v]])+")
	emailRegex           = regexp.MustCompile(`^.+@.+\..+$`)
)

// Validation limits.
const (
	maxIDBytes        = 128
	minCustomIDBytes  = 6
	minDeviceIDBytes  = 10
	minEmailBytes     = 10
	maxEmailBytes     = 255
	minPasswordChars  = 8
	maxPasswordBytes  = 72 // bcrypt's limit
	maxUsernameBytes  = 128
	usernameLetters   = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	generatedUsername = 10
)

// Messages of refusals, as Nakama words them; msgPasswordTooLong is
// Warden's own (Nakama answers 500 there).
const (
	msgCustomIDRequired   = "Custom ID is required."
	msgCustomIDChars      = "Custom ID invalid, no spaces or control characters allowed."
	msgCustomIDLength     = "Custom ID invalid, must be 6-128 bytes."
	msgDeviceIDRequired   = "Device ID is required."
	msgDeviceIDChars      = "Device ID invalid, no spaces or control characters allowed."
	msgDeviceIDLength     = "Device ID invalid, must be 10-128 bytes."
	msgEmailRequired      = "Email address and password is required."
	msgEmailChars         = "Invalid email address, no spaces or control characters allowed."
	msgEmailFormat        = "Invalid email address format."
	msgEmailLength        = "Invalid email address, must be 10-255 bytes."
	msgPasswordShort      = "Password must be at least 8 characters long."
	msgPasswordTooLong    = "Password must be at most 72 bytes long."
	msgUsernameRequired   = "Username is required when email address is not supplied."
	msgUsernameChars      = "Username invalid, no spaces or control characters allowed."
	msgUsernameLength     = "Username invalid, must be 1-128 bytes."
	msgUsernameInUse      = "Username is already in use."
	msgUserNotFound       = "User account not found."
	msgInvalidCredentials = "Invalid credentials."
	msgFindUser           = "Error finding user account."
	msgFindOrCreateUser   = "Error finding or creating user account."
)

// check validates c in Nakama's order and returns it normalized: the email
// address lowercased and, for a new account without a username, a
// generated one. IDs, email addresses and usernames must be UTF-8: other
// bytes would be stored as given and shown as U+FFFD, so that two
// accounts could show one name.
//
// # Errors
//
// An *Error with code 3 (InvalidArgument) and Nakama's message.
func (c Credentials) check() (Credentials, error) {
	var err error
	switch c.Kind {
	case KindCustom:
		err = checkID(c.ID, minCustomIDBytes, msgCustomIDRequired, msgCustomIDChars, msgCustomIDLength)
	case KindDevice:
		err = checkID(c.ID, minDeviceIDBytes, msgDeviceIDRequired, msgDeviceIDChars, msgDeviceIDLength)
	case KindEmail:
		err = checkEmail(c)
	default:
		return c, internal(msgFindOrCreateUser, nil)
	}
	if err != nil {
		return c, err
	}
	c.Email = strings.ToLower(c.Email)
	switch {
	case c.Username == "" && c.Kind == KindEmail && c.Email == "":
		return c, invalid(msgUsernameRequired)
	case c.Username == "":
		c.Username = randomUsername()
	case !utf8.ValidString(c.Username) || invalidUsernameRegex.MatchString(c.Username):
		return c, invalid(msgUsernameChars)
	case len(c.Username) > maxUsernameBytes:
		return c, invalid(msgUsernameLength)
	}
	return c, nil
}

// checkID applies the rules of a custom or device ID.
func checkID(id string, minBytes int, required, chars, length string) error {
	switch {
	case id == "":
		return invalid(required)
	case !utf8.ValidString(id) || invalidCharsRegex.MatchString(id):
		return invalid(chars)
	case len(id) < minBytes || len(id) > maxIDBytes:
		return invalid(length)
	}
	return nil
}

// checkEmail applies the rules of an email address, which may be empty for
// a username login, and of a password.
func checkEmail(c Credentials) error {
	switch {
	case c.NoAccount:
		return invalid(msgEmailRequired)
	case c.Email == "":
	case !utf8.ValidString(c.Email) || invalidCharsRegex.MatchString(c.Email):
		return invalid(msgEmailChars)
	case !emailRegex.MatchString(c.Email):
		return invalid(msgEmailFormat)
	case len(c.Email) < minEmailBytes || len(c.Email) > maxEmailBytes:
		return invalid(msgEmailLength)
	}
	switch {
	case len(c.Password) < minPasswordChars:
		return invalid(msgPasswordShort)
	case len(c.Password) > maxPasswordBytes:
		return invalid(msgPasswordTooLong)
	}
	return nil
}

// invalid returns an InvalidArgument *Error with msg.
func invalid(msg string) error { return refuse(abi.CodeInvalidArgument, msg, nil) }

// randomUsername returns 10 random ASCII letters, as Nakama generates for a
// new account without a username.
func randomUsername() string {
	b := make([]byte, generatedUsername)
	for i := range b {
		b[i] = usernameLetters[rand.N(len(usernameLetters))]
	}
	return string(b)
}
