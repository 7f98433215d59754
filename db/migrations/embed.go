// Package migrations embeds the tern migrations so the geniai binary migrates itself.
package migrations

import "embed"

// FS holds every NNN_name.sql migration, in tern format.
//
//go:embed *.sql
var FS embed.FS
