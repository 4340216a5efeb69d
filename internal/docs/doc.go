// Package docs keeps the Markdown documentation honest; it has no code of
// its own.
//
// Its tests check that every Go block of docs/migrating.md and
// docs/errors.md that is marked <!-- compiled: name --> is, byte for byte,
// the declaration of that name in this package's test files, which compile,
// and whose Examples run them against wxauthtest; that docs/errors.md has a
// row for every session.Code* machine code; and that README.zh-CN.md, once
// it exists, shows the same commands and code blocks as README.md, in the
// same order.
package docs
