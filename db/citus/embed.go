// Package citus embeds the SQL a superuser runs to prepare a Citus database for the product
// (prepare.sql), so the test helpers run exactly what the README tells a DBA to run.
package citus

import _ "embed"

// Prepare is prepare.sql.
//
//go:embed prepare.sql
var Prepare string
