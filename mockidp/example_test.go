package mockidp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/idpkit/idpkit/mockidp"
)

// A test starts the mock Okta, creates a user through the management API
// exactly as a script written for Okta would, and reads it back.
func ExampleNewServer() {
	srv := mockidp.NewServer()
	defer srv.Close()

	body := `{"profile":{"login":"alice@example.com","email":"alice@example.com","firstName":"Alice","lastName":"Example"},
	          "credentials":{"password":{"value":"Correct-Horse-9"}}}`
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/users?activate=true", strings.NewReader(body))
	req.Header.Set("Authorization", "SSWS "+srv.APIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var user struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Profile struct {
			Login string `json:"login"`
		} `json:"profile"`
	}
	json.NewDecoder(resp.Body).Decode(&user)

	u, _ := srv.Directory().User(user.ID)
	fmt.Println(resp.StatusCode, user.Status, user.Profile.Login, strings.HasPrefix(user.ID, "00u"))
	fmt.Println(u.Profile.FirstName, srv.Issuer("") == srv.URL, srv.Issuer("default") == srv.URL+"/oauth2/default")
	// Output:
	// 200 ACTIVE alice@example.com true
	// Alice true true
}
