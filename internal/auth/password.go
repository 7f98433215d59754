// Package auth holds password policy and hashing, and (with the web layer) sign-in.
package auth

import (
	"crypto/rand"
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/geniai/analytics/internal/apperr"
)

// Password policy.
const (
	MinPasswordChars = 12
	MaxPasswordBytes = 72 // bcrypt ignores everything past 72 bytes; refuse rather than truncate
	MinBcryptCost    = 10
	DefaultCost      = 12
)

// ValidatePassword checks a new password against the policy; email may be empty.
func ValidatePassword(password, email string) error {
	if utf8.RuneCountInString(password) < MinPasswordChars {
		return apperr.New(apperr.Invalid, "A senha precisa ter pelo menos %d caracteres.", MinPasswordChars)
	}
	if len(password) > MaxPasswordBytes {
		return apperr.New(apperr.Invalid, "A senha pode ter no máximo %d bytes (cerca de %d caracteres sem acento).", MaxPasswordBytes, MaxPasswordBytes)
	}
	if email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)) {
		return apperr.New(apperr.Invalid, "A senha não pode ser igual ao e-mail.")
	}
	return nil
}

// Hash hashes a password with bcrypt at cost (raised to MinBcryptCost if lower).
func Hash(password string, cost int) (string, error) {
	if cost < MinBcryptCost {
		cost = MinBcryptCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", apperr.Wrap(err, apperr.Invalid, "Senha inválida.")
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
