package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/warden-rpc/warden/abi"
	"github.com/warden-rpc/warden/accounts"
)

// Values Nakama's Account carries for fields Warden does not store: the
// defaults of Nakama's users table, so that clients can parse them as they
// would Nakama's.
const (
	defaultLangTag  = "en"
	defaultMetadata = "{}"
	defaultWallet   = "{}"
)

// timestampLayout is protojson's form of a google.protobuf.Timestamp with
// whole seconds.
const timestampLayout = "2006-01-02T15:04:05Z"

// readJSON reads a JSON request body into v, as grpc-gateway's decoder
// does: an empty body leaves v alone and reports false, and only the first
// JSON value is read. The body is bounded by MaxBodyBytes.
//
// # Errors
//
// 400 (code 3) for a compressed body, a body over the limit ("http: request
// body too large") or one that is not JSON of v's shape.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any) (bool, error) {
	if err := encoded(r); err != nil {
		return false, gatewayError(abi.CodeInvalidArgument, msgBadEncoding, err)
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return false, err
	}
	err = json.NewDecoder(bytes.NewReader(body)).Decode(v)
	switch {
	case errors.Is(err, io.EOF):
		return false, nil
	case err != nil:
		return false, gatewayError(abi.CodeInvalidArgument, err.Error(), err)
	}
	return true, nil
}

// authenticateQuery returns the create (true when absent) and username
// query parameters of an authenticate request, parsed as grpc-gateway
// parses a BoolValue and a string field.
//
// # Errors
//
// 400 (code 3) with grpc-gateway's message when a parameter is repeated or
// create is not a boolean.
func authenticateQuery(q url.Values) (create bool, username string, err error) {
	create = true
	if v, ok := q["create"]; ok {
		if err := singleValue("create", v); err != nil {
			return false, "", err
		}
		if create, err = strconv.ParseBool(v[0]); err != nil {
			return false, "", gatewayError(abi.CodeInvalidArgument, fmt.Sprintf("parsing field %q: %v", "create", err), err)
		}
	}
	if v, ok := q["username"]; ok {
		if err := singleValue("username", v); err != nil {
			return false, "", err
		}
		username = v[0]
	}
	return create, username, nil
}

// singleValue refuses a repeated query parameter, as grpc-gateway does.
func singleValue(name string, v []string) error {
	if len(v) > 1 {
		return gatewayError(abi.CodeInvalidArgument, fmt.Sprintf("too many values for field %q: %s", name, strings.Join(v, ", ")), nil)
	}
	return nil
}

// writeJSON writes v as a 200 JSON response. HTML characters are not
// escaped, as protojson does not escape them.
func writeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	logWriteError(w, r, err)
	return nil
}

// apiSession is Nakama's api.Session in gateway JSON: proto names, fields
// in proto order, unpopulated fields (created when false) left out.
type apiSession struct {
	Created      bool   `json:"created,omitempty"`
	Token        string `json:"token,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
}

func sessionJSON(s accounts.Session) apiSession {
	return apiSession{Created: s.Created, Token: s.Token, RefreshToken: s.RefreshToken}
}

// apiAccount is Nakama's api.Account in gateway JSON, with the fields
// Warden has.
type apiAccount struct {
	User     apiUser     `json:"user"`
	Wallet   string      `json:"wallet,omitempty"`
	Email    string      `json:"email,omitempty"`
	Devices  []apiDevice `json:"devices,omitempty"`
	CustomID string      `json:"custom_id,omitempty"`
}

// apiUser is Nakama's api.User in gateway JSON, with the fields Warden has.
type apiUser struct {
	ID         string `json:"id,omitempty"`
	Username   string `json:"username,omitempty"`
	LangTag    string `json:"lang_tag,omitempty"`
	Metadata   string `json:"metadata,omitempty"`
	CreateTime string `json:"create_time,omitempty"`
	UpdateTime string `json:"update_time,omitempty"`
}

// apiDevice is Nakama's api.AccountDevice; GetAccount fills only the ID.
type apiDevice struct {
	ID string `json:"id,omitempty"`
}

func accountJSON(a *accounts.Account) apiAccount {
	out := apiAccount{
		User: apiUser{
			ID: a.UserID, Username: a.Username, LangTag: defaultLangTag, Metadata: defaultMetadata,
			CreateTime: timestamp(a.CreateTime), UpdateTime: timestamp(a.UpdateTime),
		},
		Wallet:   defaultWallet,
		Email:    a.Email,
		CustomID: a.CustomID,
	}
	for _, id := range a.DeviceIDs {
		out.Devices = append(out.Devices, apiDevice{ID: id})
	}
	return out
}

// timestamp formats t as protojson formats a Timestamp of whole seconds.
func timestamp(t time.Time) string { return t.UTC().Format(timestampLayout) }
