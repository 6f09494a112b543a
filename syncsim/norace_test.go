//go:build !race

package syncsim_test

const defaultSchedules = 1000
