package provision

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/idpkit/idpkit/scim/client"
)

func users(prefix string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"id": fmt.Sprintf("%s%d", prefix, i), "userName": fmt.Sprintf("%s%d@example.com", prefix, i)}
	}
	return out
}

func TestImportPaging(t *testing.T) {
	tests := []struct {
		name      string
		answers   []response
		wantPaths []string
		wantCount int
		wantErr   string // substring; "" = success
	}{
		{
			name:      "one page",
			answers:   []response{{Status: 200, Body: pageJSON(3, 1, users("u", 3)...)}},
			wantPaths: []string{"/Users?startIndex=1&count=100"},
			wantCount: 3,
		},
		{
			name:      "exactly 100 is one page",
			answers:   []response{{Status: 200, Body: pageJSON(100, 1, users("u", 100)...)}},
			wantPaths: []string{"/Users?startIndex=1&count=100"},
			wantCount: 100,
		},
		{
			name: "250 in three pages",
			answers: []response{
				{Status: 200, Body: pageJSON(250, 1, users("a", 100)...)}, {Status: 200, Body: pageJSON(250, 101, users("b", 100)...)}, {Status: 200, Body: pageJSON(250, 201, users("c", 50)...)},
			},
			wantPaths: []string{"/Users?startIndex=1&count=100", "/Users?startIndex=101&count=100", "/Users?startIndex=201&count=100"},
			wantCount: 250,
		},
		{
			name:      "empty",
			answers:   []response{{Status: 200, Body: listJSON()}},
			wantPaths: []string{"/Users?startIndex=1&count=100"},
		},
		{
			name: "a server capped at 50 a page loses users, as with Okta",
			answers: []response{
				{Status: 200, Body: pageJSON(120, 1, users("a", 50)...)}, {Status: 200, Body: pageJSON(120, 101, users("b", 20)...)},
			},
			wantPaths: []string{"/Users?startIndex=1&count=100", "/Users?startIndex=101&count=100"},
			wantCount: 70,
		},
		{
			name: "totals as strings",
			answers: []response{{Status: 200, Body: map[string]any{
				"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "totalResults": "1", "startIndex": "1", "itemsPerPage": "1", "Resources": users("u", 1),
			}}},
			wantPaths: []string{"/Users?startIndex=1&count=100"},
			wantErr:   "decode response",
		},
		{
			name:      "an unstable order repeats a user",
			answers:   []response{{Status: 200, Body: pageJSON(150, 1, users("a", 100)...)}, {Status: 200, Body: pageJSON(150, 101, users("a", 50)...)}},
			wantPaths: []string{"/Users?startIndex=1&count=100", "/Users?startIndex=101&count=100"},
			wantErr:   `User "a0" was already on an earlier page`,
		},
		{
			name:      "an empty page before totalResults",
			answers:   []response{{Status: 200, Body: pageJSON(300, 1, users("a", 100)...)}, {Status: 200, Body: pageJSON(300, 101)}},
			wantPaths: []string{"/Users?startIndex=1&count=100", "/Users?startIndex=101&count=100"},
			wantErr:   "no resources, but totalResults is 300",
		},
		{
			name:      "not a ListResponse",
			answers:   []response{{Status: 200, Body: map[string]any{"id": "x"}}},
			wantPaths: []string{"/Users?startIndex=1&count=100"},
			wantErr:   "not a ListResponse",
		},
		{
			name:      "refused",
			answers:   []response{{Status: 401, Body: map[string]any{"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": "401", "detail": "no"}}},
			wantPaths: []string{"/Users?startIndex=1&count=100"},
			wantErr:   "401",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, tt.answers)
			rs, err := (&Engine{Client: rec.srv.Client()}).ImportUsers(context.Background(), rec.target())
			var paths []string
			for _, x := range rec.exchanges(t) {
				if x.Method != "GET" || x.Body != nil {
					t.Errorf("sent %s with body %v", x.Method, x.Body)
				}
				paths = append(paths, x.Path)
			}
			if diff := cmp.Diff(tt.wantPaths, paths); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("ImportUsers: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "provision: import users: ")):
				t.Fatalf("ImportUsers error %v, want one containing %q", err, tt.wantErr)
			case tt.wantErr == "" && len(rs) != tt.wantCount:
				t.Errorf("imported %d, want %d", len(rs), tt.wantCount)
			}
		})
	}
}

func TestSaveToAppSettings(t *testing.T) {
	tests := []struct {
		name    string
		answer  response
		wantErr error
	}{
		{"groups listed", response{Status: 200, Body: listJSON(groupJSON("Engineering"))}, nil},
		{"no groups", response{Status: 200, Body: listJSON()}, nil},
		{"groups not supported", response{Status: 404, Body: map[string]any{"schemas": []any{"urn:ietf:params:scim:api:messages:2.0:Error"}, "status": "404", "detail": "no /Groups"}}, nil},
		{"empty body", response{Status: 200, Body: nil}, client.ErrEmptyBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := newRecorder(t, []response{tt.answer})
			err := (&Engine{Client: rec.srv.Client()}).SaveToAppSettings(context.Background(), rec.target())
			xs := rec.exchanges(t)
			if len(xs) != 1 || xs[0].Path != "/Groups?startIndex=1&count=100" {
				t.Errorf("requests %v", xs)
			}
			ok := tt.answer.Status == 200 && tt.answer.Body != nil
			if ok != (err == nil) {
				t.Errorf("SaveToAppSettings: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v does not wrap %v", err, tt.wantErr)
			}
		})
	}
}
