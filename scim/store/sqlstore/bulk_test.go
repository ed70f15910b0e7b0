package sqlstore

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMultiInsert(t *testing.T) {
	got := multiInsert(bulkMailHead, bulkMailRow, mailPer, 2)
	want := bulkMailHead + `($1, 'User', $2, $3, $4), ($5, 'User', $6, $7, $8)`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got = multiInsert(bulkResHead, bulkResRow, resPer, 2)
	want = bulkResHead + `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13), ($14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26)`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
