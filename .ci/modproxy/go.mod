// The program that builds the file-system GOPROXY of .ci/consumer.sh. It is a
// module of its own so that the root go.mod gains nothing (golang.org/x/mod);
// its path is no path of the repository, so the release script tags it not.
module miniauth.ci/modproxy

go 1.25.0

require golang.org/x/mod v0.39.0
