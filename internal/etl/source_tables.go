package etl

import "sort"

// SourceTables are the Chatwoot tables the ETL reads, sorted: what the Chatwoot read-only role
// must be able to SELECT (`geniai db bootstrap --chatwoot` grants exactly these, plus the
// accounts the onboarding wizard names).
func SourceTables() []string {
	tables := make([]string, 0, len(requiredColumns))
	for t := range requiredColumns {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	return tables
}
