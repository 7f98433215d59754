// Package faults holds fault-injection tests: PostgreSQL restarted under a
// running server, the Chatwoot source stopped in the middle of an ETL run, and `geniai etl run`
// killed with SIGKILL at random moments. The tests start private PostgreSQL clusters with
// db/pgcluster.sh next to the shared test cluster of `make test`; there is no non-test code.
package faults
