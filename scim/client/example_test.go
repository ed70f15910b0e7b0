package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/idpkit/idpkit/scim"
	"github.com/idpkit/idpkit/scim/client"
)

// exampleServer is a tiny SCIM service for the examples: it knows one user.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", scim.MediaType)
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401","detail":"bad token"}`)
			return
		}
		alice := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"alice@example.com","active":true}`
		switch {
		case r.Method == "GET" && r.URL.Path == "/scim/v2/Users" && r.URL.Query().Get("filter") == `userName eq "alice@example.com"`:
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[`+alice+`]}`)
		case r.Method == "POST" && r.URL.Path == "/scim/v2/Users":
			w.WriteHeader(http.StatusConflict)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"409","scimType":"uniqueness","detail":"userName is taken"}`)
		case r.Method == "PATCH" && r.URL.Path == "/scim/v2/Users/u1":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"not found"}`)
		}
	}))
}

func ExampleClient_List() {
	srv := exampleServer()
	defer srv.Close()

	c := client.New(srv.URL+"/scim/v2", "s3cret")
	lr, err := c.List(context.Background(), "Users", client.ListQuery{
		Filter:     "userName eq " + client.FilterString("alice@example.com"),
		StartIndex: 1,
		Count:      100,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(lr.TotalResults, lr.Resources[0]["id"])
	// Output: 1 u1
}

func ExampleClient_Create() {
	srv := exampleServer()
	defer srv.Close()

	c := client.New(srv.URL+"/scim/v2", "s3cret")
	_, err := c.Create(context.Background(), "Users", scim.Resource{
		"schemas":  []string{scim.SchemaUser},
		"userName": "alice@example.com",
	})
	fmt.Println(errors.Is(err, scim.ErrUniqueness))
	fmt.Println(err)
	// Output:
	// true
	// client: POST /Users: 409 Conflict: scim: 409 uniqueness: userName is taken
}

func ExampleClient_Patch() {
	srv := exampleServer()
	defer srv.Close()

	c := client.New(srv.URL+"/scim/v2", "s3cret")
	r, err := c.Patch(context.Background(), "Users", "u1", []scim.PatchOperation{
		{Op: "replace", Value: json.RawMessage(`{"active":false}`)},
	})
	fmt.Println(r == nil, err)
	// Output: true <nil>
}

func ExampleClient_Get() {
	srv := exampleServer()
	defer srv.Close()

	c := client.New(srv.URL+"/scim/v2", "wrong")
	_, err := c.Get(context.Background(), "Users", "u1")
	fmt.Println(errors.Is(err, scim.ErrUnauthorized))
	fmt.Println(err)
	// Output:
	// true
	// client: GET /Users/u1: 401 Unauthorized: scim: 401: bad token
}

func ExampleListQuery_Encode() {
	q := client.ListQuery{Filter: `userName eq "x"`, StartIndex: 1, Count: 100}
	fmt.Println(q.Encode())
	// Output: filter=userName%20eq%20%22x%22&startIndex=1&count=100
}
