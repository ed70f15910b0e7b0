package login

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim/store"
)

func TestParseUserActive(t *testing.T) {
	tests := []struct {
		name string
		data string
		want bool
	}{
		{"true", `{"active":true}`, true},
		{"false", `{"active":false}`, false},
		{"absent", `{"userName":"a"}`, true},
		{"null", `{"active":null}`, true},
		{"string true", `{"active":"True"}`, true},
		{"string false", `{"active":"false"}`, false},
		{"number", `{"active":1}`, false},
		{"not JSON", `{`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseUser(store.Record{ID: "u1", Data: []byte(tt.data)}).active
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("active (-want +got):\n%s", diff)
			}
		})
	}
}
