package accounts

import (
	"strings"
	"testing"

	"github.com/warden-rpc/warden/abi"
)

func TestCredentials_check(t *testing.T) {
	long := strings.Repeat("x", 129)
	tests := []struct {
		name    string
		c       Credentials
		wantMsg string // "" for success
	}{
		{"CustomOK", Credentials{Kind: KindCustom, ID: "abcdef"}, ""},
		{"CustomMax", Credentials{Kind: KindCustom, ID: long[:128]}, ""},
		{"CustomRequired", Credentials{Kind: KindCustom}, msgCustomIDRequired},
		{"CustomNoAccount", Credentials{Kind: KindCustom, NoAccount: true}, msgCustomIDRequired},
		{"CustomSpace", Credentials{Kind: KindCustom, ID: "abc def"}, msgCustomIDChars},
		{"CustomControl", Credentials{Kind: KindCustom, ID: "abc\x00def"}, msgCustomIDChars},
		{"CustomShort", Credentials{Kind: KindCustom, ID: "abcde"}, msgCustomIDLength},
		{"CustomLong", Credentials{Kind: KindCustom, ID: long}, msgCustomIDLength},
		{"DeviceOK", Credentials{Kind: KindDevice, ID: "0123456789"}, ""},
		{"DeviceRequired", Credentials{Kind: KindDevice}, msgDeviceIDRequired},
		{"DeviceTab", Credentials{Kind: KindDevice, ID: "0123456789\t"}, msgDeviceIDChars},
		{"DeviceShort", Credentials{Kind: KindDevice, ID: "012345678"}, msgDeviceIDLength},
		{"DeviceLong", Credentials{Kind: KindDevice, ID: long}, msgDeviceIDLength},
		{"EmailOK", Credentials{Kind: KindEmail, Email: "a@example.com", Password: "password"}, ""},
		{"EmailNoAccount", Credentials{Kind: KindEmail, NoAccount: true}, msgEmailRequired},
		{"EmailSpace", Credentials{Kind: KindEmail, Email: "a b@example.com", Password: "password"}, msgEmailChars},
		{"EmailFormat", Credentials{Kind: KindEmail, Email: "nobody.example.com", Password: "password"}, msgEmailFormat},
		{"EmailShort", Credentials{Kind: KindEmail, Email: "a@b.cd", Password: "password"}, msgEmailLength},
		{"EmailLong", Credentials{Kind: KindEmail, Email: strings.Repeat("a", 250) + "@b.com", Password: "password"}, msgEmailLength},
		{"PasswordShort", Credentials{Kind: KindEmail, Email: "a@example.com", Password: "1234567"}, msgPasswordShort},
		{"PasswordTooLong", Credentials{Kind: KindEmail, Email: "a@example.com", Password: strings.Repeat("p", 73)}, msgPasswordTooLong},
		{"EmptyAccountPassword", Credentials{Kind: KindEmail}, msgPasswordShort},
		{"UsernameLoginOK", Credentials{Kind: KindEmail, Username: "alice", Password: "password"}, ""},
		{"UsernameLoginNoName", Credentials{Kind: KindEmail, Password: "password"}, msgUsernameRequired},
		{"UsernameNewline", Credentials{Kind: KindCustom, ID: "abcdef", Username: "al\nice"}, msgUsernameChars},
		{"UsernameBrackets", Credentials{Kind: KindCustom, ID: "abcdef", Username: "a[]b"}, msgUsernameChars},
		{"UsernameSpaceAllowed", Credentials{Kind: KindCustom, ID: "abcdef", Username: "al ice"}, ""},
		{"UsernameLong", Credentials{Kind: KindCustom, ID: "abcdef", Username: long}, msgUsernameLength},
		// Bytes that are not UTF-8 would be stored as given but shown as
		// U+FFFD, so that two accounts could show one name.
		{"UsernameNotUTF8", Credentials{Kind: KindCustom, ID: "abcdef", Username: "bob\xff"}, msgUsernameChars},
		{"CustomNotUTF8", Credentials{Kind: KindCustom, ID: "abcdef\xfe"}, msgCustomIDChars},
		{"DeviceNotUTF8", Credentials{Kind: KindDevice, ID: "0123456789\xc3"}, msgDeviceIDChars},
		{"EmailNotUTF8", Credentials{Kind: KindEmail, Email: "a\xff@example.com", Password: "password"}, msgEmailChars},
		{"UsernameUTF8OK", Credentials{Kind: KindCustom, ID: "abcdef", Username: "bjørn"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.check()
			if tt.wantMsg != "" {
				wantError(t, err, abi.CodeInvalidArgument, tt.wantMsg)
				return
			}
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			if tt.c.Username != "" && got.Username != tt.c.Username {
				t.Fatalf("username = %q, want %q", got.Username, tt.c.Username)
			}
		})
	}
}

func TestCredentials_checkNormalizes(t *testing.T) {
	got, err := Credentials{Kind: KindEmail, Email: "Alice@Example.COM", Password: "password"}.check()
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != "alice@example.com" {
		t.Errorf("email = %q, want it lowercased", got.Email)
	}
	if len(got.Username) != 10 || strings.Trim(got.Username, usernameLetters) != "" {
		t.Errorf("generated username = %q, want 10 ASCII letters", got.Username)
	}
}
