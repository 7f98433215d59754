// Package chatwoot is the Chatwoot side of GeniAI Analytics: the subset of the
// Chatwoot 4.9 schema that the ETL reads (schema.sql, with Chatwoot's own names and
// types so the ETL runs unchanged against a real Chatwoot), and a deterministic
// generator of realistic demo data — Brazilian gyms talking to their customers on
// WhatsApp through bots and receptionists — for `make run`, demos and tests.
//
// All SQL except the DDL lives in queries/chatwoot/ and is compiled by sqlc into
// package cwsqlc. The generator is set-based: a handful of INSERT ... SELECT
// statements whose pseudo-randomness is hashint8extended(key, seed), so the same
// Options always produce byte-identical rows, ids included.
package chatwoot

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// schemaSQL is the DDL: all tables, then (after indexMarker) all indexes.
//
//go:embed schema.sql
var schemaSQL string

// indexMarker separates the tables from the indexes in schema.sql, so that CreateDemo
// can build the indexes after loading the data.
const indexMarker = "-- geniai:indexes"

// Schema returns the DDL of the Chatwoot source tables and their indexes
// (schema.sql), e.g. for tools that create a source database themselves.
func Schema() string { return schemaSQL }

// schemaParts splits schema.sql into its table and index statements.
func schemaParts() (tables, indexes string) {
	tables, indexes, ok := strings.Cut(schemaSQL, indexMarker)
	if !ok {
		// A build-time invariant: schema.sql is embedded, not user input.
		panic("chatwoot: schema.sql lacks the " + indexMarker + " marker")
	}
	return tables, indexes
}

// CreateSchema creates the Chatwoot tables and indexes in the current schema of
// conn's database, which must not have them yet. The DDL runs as one multi-statement
// simple-protocol request, hence in one implicit transaction: all or nothing.
func CreateSchema(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, schemaSQL); err != nil {
		return fmt.Errorf("chatwoot: create schema: %w", err)
	}
	return nil
}

// CreateDemo creates the Chatwoot schema in an empty database and fills it with
// Generate's demo data, building the indexes once after the load instead of
// maintaining them row by row, then analyses the tables. The rows are exactly those of
// CreateSchema followed by Generate; for large volumes it is faster. Schema and data
// are created in one transaction.
func CreateDemo(ctx context.Context, conn *pgx.Conn, o Options) (Summary, error) {
	o, err := o.normalize()
	if err != nil {
		return Summary{}, err
	}
	tables, indexes := schemaParts()
	var sum Summary
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, tables); err != nil {
			return fmt.Errorf("chatwoot: create tables: %w", err)
		}
		if sum, err = generate(ctx, tx, o); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, indexes); err != nil {
			return fmt.Errorf("chatwoot: create indexes: %w", err)
		}
		return nil
	})
	if err != nil {
		return Summary{}, err
	}
	// After commit: ANALYZE inside the transaction would see the same rows, but the
	// statistics only help once the data is visible to others anyway.
	if err := analyze(ctx, conn); err != nil {
		return Summary{}, err
	}
	return sum, nil
}
