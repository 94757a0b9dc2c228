module github.com/firedrill-dev/firedrill/images/chaos-mesh/nsexec

go 1.26
