// Package docs keeps the Markdown documentation honest; it has no code of
// its own.
//
// Its tests check that every Go block of docs/migrating.md that is marked
// <!-- compiled: name --> is, byte for byte, the declaration of that name in
// this package's test files, which compile, and whose Examples run them
// against wxauthtest.
package docs
