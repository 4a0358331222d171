//go:build !unix

package raftstore

import "errors"

// mapFile is mapped_unix.go's; elsewhere snapshots are read.
func mapFile(string) ([]byte, error) { return nil, errors.New("mapping files is not supported here") }

func unmapFile([]byte) error { return nil }

func dropPages([]byte) error { return nil }

func releaseFile([]byte) error { return nil }
