package config

import (
	"strings"
	"testing"
	"time"
)

func TestFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	c, err := FromEnv(env())
	if err != nil || c.ETLWorkers != 2 || c.DBMaxConns != 16 || c.ETLInterval != time.Minute || c.BcryptCost != 12 {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	// The replica: serve opens it only if FromEnv hands it over.
	c, err = FromEnv(env("DATABASE_READ_URL", "postgres://r/geniai", "DATABASE_READ_MAX_LAG", "2s"))
	if err != nil || c.DatabaseReadURL != "postgres://r/geniai" || c.DatabaseReadMaxLag != 2*time.Second {
		t.Fatalf("replica: %q %v %v", c.DatabaseReadURL, c.DatabaseReadMaxLag, err)
	}
	if c, _ := FromEnv(env()); c.DatabaseReadMaxLag != 5*time.Second {
		t.Errorf("DATABASE_READ_MAX_LAG default: %v, want 5s", c.DatabaseReadMaxLag)
	}
	for _, tc := range []struct {
		kv   []string
		want string // "" means valid
	}{
		{[]string{"ETL_WORKERS", "4", "DB_MAX_CONNS", "6"}, ""},
		{[]string{"ETL_WORKERS", "0"}, "ETL_WORKERS must be between 1 and 64"},
		{[]string{"ETL_WORKERS", "65"}, "ETL_WORKERS must be between 1 and 64"},
		{[]string{"ETL_WORKERS", "4", "DB_MAX_CONNS", "5"}, "DB_MAX_CONNS must be at least ETL_WORKERS + 2"},
		{[]string{"DB_MAX_CONNS", "0"}, "DB_MAX_CONNS must be at least 1"},
		{[]string{"BCRYPT_COST", "9"}, "BCRYPT_COST must be between 10 and 16"},
		{[]string{"DATABASE_READ_MAX_LAG", "0"}, "DATABASE_READ_MAX_LAG must be a positive duration"},
		{[]string{"DATABASE_READ_MAX_LAG", "soon"}, "DATABASE_READ_MAX_LAG=\"soon\" is not a duration"},
	} {
		_, err := FromEnv(env(tc.kv...))
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%v: %v", tc.kv, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%v: error %v, want %q", tc.kv, err, tc.want)
		}
	}
}

func TestChatwootURL(t *testing.T) {
	for v, ok := range map[string]bool{"https://chat.example.com/": true, "http://localhost:3000": true, "chat.example.com": false, "javascript:alert(1)": false, "https://x.test/?a=1": false} {
		c, err := FromEnv(func(k string) string {
			if k == "CHATWOOT_URL" {
				return v
			}
			return ""
		})
		if (err == nil) != ok || (ok && strings.HasSuffix(c.ChatwootURL, "/")) {
			t.Errorf("CHATWOOT_URL=%q: %v %q", v, err, c.ChatwootURL)
		}
	}
}
