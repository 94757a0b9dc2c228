package kinds

import (
	"testing"
	"time"
)

func TestSkewMatches(t *testing.T) {
	for _, tt := range []struct {
		skew, offset time.Duration
		want         bool
	}{
		{-10 * time.Minute, -10 * time.Minute, true},
		{-6 * time.Minute, -10 * time.Minute, true},
		{-time.Minute, -10 * time.Minute, false},
		{10 * time.Minute, -10 * time.Minute, false},
		{9 * time.Minute, 10 * time.Minute, true},
		{0, 10 * time.Minute, false},
	} {
		if got := skewMatches(tt.skew, tt.offset); got != tt.want {
			t.Errorf("skewMatches(%s, %s) = %v, want %v", tt.skew, tt.offset, got, tt.want)
		}
	}
}
