// Package auth holds password policy and hashing, and (with the web layer) sign-in.
package auth

import (
	"crypto/rand"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
	"golang.org/x/crypto/bcrypt"

	"github.com/geniai/analytics/internal/apperr"
)

// Password policy.
const (
	MinPasswordChars = 12
	MaxPasswordBytes = 72 // bcrypt ignores everything past 72 bytes; refuse rather than truncate
	MinBcryptCost    = 10
	DefaultCost      = 12
	// MinPasswordScore is the least zxcvbn score a new password needs: 3 means about 10^8 guesses
	// or more ("safely unguessable" behind a slow hash such as bcrypt). Lists of the most common
	// passwords, words, names, keyboard walks, sequences, repeats and dates all count against it.
	MinPasswordScore = 3
)

// passwordContext are words a password must not lean on, besides the user's own e-mail.
var passwordContext = []string{"geniai", "analytics", "senha", "academia", "mudar", "trocar", "brasil", "whatsapp", "chatwoot"}

// ValidatePassword checks a new password against the policy; email may be empty.
func ValidatePassword(password, email string) error {
	if utf8.RuneCountInString(password) < MinPasswordChars {
		return apperr.New(apperr.Invalid, "err.password.too_short", MinPasswordChars)
	}
	if len(password) > MaxPasswordBytes {
		return apperr.New(apperr.Invalid, "err.password.too_long", MaxPasswordBytes, MaxPasswordBytes)
	}
	if email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)) {
		return apperr.New(apperr.Invalid, "err.password.is_email")
	}
	inputs := append([]string{}, passwordContext...)
	if email = strings.ToLower(strings.TrimSpace(email)); email != "" {
		local, domain, _ := strings.Cut(email, "@")
		inputs = append(inputs, email, local)
		if name, _, _ := strings.Cut(domain, "."); name != "" {
			inputs = append(inputs, name)
		}
	}
	if r := zxcvbn.PasswordStrength(password, inputs); r.Score < MinPasswordScore {
		return apperr.New(apperr.Invalid, "err.password.guessable", weakness(r.Sequence))
	}
	return nil
}

// weakness says, in a few words, what makes a password guessable: the longest part of it that
// zxcvbn recognised (never the part itself, which would end up on screens and in logs).
func weakness(seq []*match.Match) apperr.Text {
	var worst *match.Match
	for _, m := range seq {
		if m.Pattern != "bruteforce" && (worst == nil || m.J-m.I > worst.J-worst.I) {
			worst = m
		}
	}
	if worst == nil {
		return apperr.Text("password.weakness.short")
	}
	switch worst.Pattern {
	case "repeat":
		return apperr.Text("password.weakness.repeat")
	case "sequence":
		return apperr.Text("password.weakness.sequence")
	case "spatial":
		return apperr.Text("password.weakness.keyboard")
	case "date", "regex":
		return apperr.Text("password.weakness.date")
	case "dictionary":
		switch worst.DictionaryName {
		case "passwords":
			return apperr.Text("password.weakness.common")
		case "user_inputs":
			return apperr.Text("password.weakness.personal")
		}
		return apperr.Text("password.weakness.words")
	}
	return apperr.Text("password.weakness.predictable")
}

// Hash hashes a password with bcrypt at cost (raised to MinBcryptCost if lower).
func Hash(password string, cost int) (string, error) {
	if cost < MinBcryptCost {
		cost = MinBcryptCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Invalid, "err.password.invalid")
	}
	return string(h), nil
}

// Check reports whether password matches hash. A malformed hash never matches.
func Check(hash, password string) bool {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	return err == nil
}

// IsMismatch reports whether err is a plain wrong-password result.
func IsMismatch(err error) bool { return errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) }

// passwordAlphabet avoids look-alike characters (0/O, 1/l/I) so a printed password can be typed.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// GeneratePassword returns a random password of 20 characters (about 116 bits).
func GeneratePassword() string {
	const n = 20
	b := make([]byte, n)
	max := byte(256 - 256%len(passwordAlphabet)) // reject bytes that would bias the modulo
	out := make([]byte, 0, n)
	for len(out) < n {
		if _, err := rand.Read(b); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		for _, c := range b {
			if c < max && len(out) < n {
				out = append(out, passwordAlphabet[int(c)%len(passwordAlphabet)])
			}
		}
	}
	return string(out)
}

// NormalizeEmail trims and lowercases an email address; the database stores it that way.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }
