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
		return apperr.New(apperr.Invalid, "A senha precisa ter pelo menos %d caracteres.", MinPasswordChars)
	}
	if len(password) > MaxPasswordBytes {
		return apperr.New(apperr.Invalid, "A senha pode ter no máximo %d bytes (cerca de %d caracteres sem acento).", MaxPasswordBytes, MaxPasswordBytes)
	}
	if email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)) {
		return apperr.New(apperr.Invalid, "A senha não pode ser igual ao e-mail.")
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
		return apperr.New(apperr.Invalid, "Senha fácil de adivinhar: %s. Use uma frase de três ou quatro palavras que só você associaria "+
			"(por exemplo, \"café sábado bicicleta azul\"), ou misture palavras, números e símbolos sem seguir o teclado.", weakness(r.Sequence))
	}
	return nil
}

// weakness says, in a few words, what makes a password guessable: the longest part of it that
// zxcvbn recognised (never the part itself, which would end up on screens and in logs).
func weakness(seq []*match.Match) string {
	var worst *match.Match
	for _, m := range seq {
		if m.Pattern != "bruteforce" && (worst == nil || m.J-m.I > worst.J-worst.I) {
			worst = m
		}
	}
	if worst == nil {
		return "é curta ou previsível demais"
	}
	switch worst.Pattern {
	case "repeat":
		return "repete o mesmo trecho"
	case "sequence":
		return "contém uma sequência (como 1234 ou abcd)"
	case "spatial":
		return "segue as teclas vizinhas do teclado (como qwerty)"
	case "date", "regex":
		return "contém uma data ou um ano"
	case "dictionary":
		switch worst.DictionaryName {
		case "passwords":
			return "contém uma das senhas mais usadas"
		case "user_inputs":
			return "contém seu e-mail, nome, o nome da empresa ou palavras do próprio sistema"
		}
		return "é feita de palavras ou nomes comuns"
	}
	return "é previsível demais"
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
