module github.com/firedrill-dev/firedrill/images/node/pause

go 1.26
