package op

import (
	"encoding/json"
	"net/http"
)

// Metadata is the discovery document (OIDC Discovery 1.0 §3, RFC 8414 §2)
// with the fields and values Okta publishes.
type Metadata struct {
	Issuer                                    string   `json:"issuer"`
	AuthorizationEndpoint                     string   `json:"authorization_endpoint"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	UserinfoEndpoint                          string   `json:"userinfo_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	ResponseModesSupported                    []string `json:"response_modes_supported"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	SubjectTypesSupported                     []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported          []string `json:"id_token_signing_alg_values_supported"`
	ScopesSupported                           []string `json:"scopes_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	ClaimsSupported                           []string `json:"claims_supported"`
	CodeChallengeMethodsSupported             []string `json:"code_challenge_methods_supported"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	EndSessionEndpoint                        string   `json:"end_session_endpoint"`
	RequestParameterSupported                 bool     `json:"request_parameter_supported"`
}

// scopesSupported are the scopes the provider accepts. "groups" is this
// mock's way of asking for the groups claim (see the package doc).
func scopesSupported() []string {
	return []string{"openid", "profile", "email", "address", "phone", "offline_access", "groups"}
}

// Metadata returns the discovery document of an authorization server ("" is
// the org server).
func (p *Provider) Metadata(server string) Metadata {
	as := &authServer{id: server}
	base := p.base()
	auth := []string{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"}
	return Metadata{
		Issuer:                            base + as.root(),
		AuthorizationEndpoint:             base + as.endpoint("authorize"),
		TokenEndpoint:                     base + as.endpoint("token"),
		UserinfoEndpoint:                  base + as.endpoint("userinfo"),
		JWKSURI:                           base + as.endpoint("keys"),
		ResponseTypesSupported:            []string{"code", "id_token", "code id_token", "code token", "id_token token", "code id_token token"},
		ResponseModesSupported:            []string{"query", "fragment", "form_post", "okta_post_message"},
		GrantTypesSupported:               []string{"authorization_code", "implicit", "refresh_token", "password", "client_credentials"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  p.idTokenAlgs(),
		ScopesSupported:                   scopesSupported(),
		TokenEndpointAuthMethodsSupported: auth,
		ClaimsSupported: []string{"iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce",
			"name", "nickname", "preferred_username", "given_name", "middle_name", "family_name", "email", "email_verified",
			"profile", "zoneinfo", "locale", "address", "phone_number", "picture", "website", "gender", "birthdate",
			"updated_at", "at_hash", "c_hash"},
		CodeChallengeMethodsSupported:             []string{"S256"},
		IntrospectionEndpoint:                     base + as.endpoint("introspect"),
		IntrospectionEndpointAuthMethodsSupported: auth,
		RevocationEndpoint:                        base + as.endpoint("revoke"),
		RevocationEndpointAuthMethodsSupported:    auth,
		EndSessionEndpoint:                        base + as.endpoint("logout"),
		RequestParameterSupported:                 false,
	}
}

// idTokenAlgs are the ID token algorithms discovery lists: RS256, and
// ES256 once it is on (Config.ES256, or a client that signs with it has
// been seen).
func (p *Provider) idTokenAlgs() []string {
	if p.es256On() {
		return []string{AlgRS256, AlgES256}
	}
	return []string{AlgRS256}
}

func (p *Provider) handleDiscovery(as *authServer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeOAuthError(w, http.StatusMethodNotAllowed, errInvalidRequest, "The discovery document accepts only GET.")
			return
		}
		// RFC 8414 metadata and OIDC discovery carry the same fields.
		body, err := json.Marshal(p.Metadata(as.id))
		if err != nil {
			writeOAuthError(w, http.StatusInternalServerError, "server_error", "The discovery document could not be encoded.")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=86400, must-revalidate")
		w.Write(body)
	}
}
