// Command pgurl prints a connection string for a role on a database of the test server
// (TEST_DATABASE_URL), for the Makefile: pgurl ROLE DBNAME (ROLE "" means the admin itself,
// any other role uses TEST_ROLE_PASSWORD).
package main

import (
	"fmt"
	"os"

	"github.com/geniai/analytics/internal/pgtest"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: pgurl ROLE DBNAME")
		os.Exit(2)
	}
	pw := ""
	if os.Args[1] != "" {
		pw = os.Getenv("TEST_ROLE_PASSWORD")
	}
	s, err := pgtest.ConnString(os.Getenv("TEST_DATABASE_URL"), os.Args[1], pw, os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgurl:", err)
		os.Exit(1)
	}
	fmt.Println(s)
}
