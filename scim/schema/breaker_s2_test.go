package schema

import "testing"

// TestBlankRequired: a required string of white space only is missing
// (400 invalidValue naming it); other white space is kept as sent.
func TestBlankRequired(t *testing.T) {
	const user = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	const group = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]`
	runNormalize(t, []normCase{
		{name: "blank userName", rt: UserType(), in: `{"userName":"   "}`, errType: "invalidValue", detail: `"userName"`},
		{name: "tab and newline userName", rt: UserType(), in: `{"userName":"\t\n"}`, errType: "invalidValue", detail: `"userName"`},
		{name: "blank displayName", rt: GroupType(), in: `{"displayName":"  "}`, errType: "invalidValue", detail: `"displayName"`},
		{name: "blank member value", rt: GroupType(), in: `{"displayName":"G","members":[{"value":" "}]}`, errType: "invalidValue", detail: `"members.value"`},
		{name: "padded userName kept", rt: UserType(), in: `{"userName":" a "}`, want: `{` + user + `,"userName":" a "}`},
		{name: "blank optional title kept", rt: UserType(), in: `{"userName":"a","title":" "}`, want: `{` + user + `,"userName":"a","title":" "}`},
		{name: "displayName", rt: GroupType(), in: `{"displayName":"G"}`, want: `{` + group + `,"displayName":"G"}`},
	})
}

// TestLowercaseDateTimeBody: RFC 3339 §5.6 allows a lowercase "t" and "z";
// the value is accepted and stored in upper case.
func TestLowercaseDateTimeBody(t *testing.T) {
	th := typesType()
	const sch = `"schemas":["urn:example:Thing"],"must":"m"`
	runNormalize(t, []normCase{
		{name: "lowercase t and z", rt: th, in: `{` + sch + `,"t":"2008-01-23t04:56:22z"}`, want: `{` + sch + `,"t":"2008-01-23T04:56:22Z"}`},
		{name: "lowercase t with offset", rt: th, in: `{` + sch + `,"t":"2008-01-23t04:56:22.5+02:00"}`, want: `{` + sch + `,"t":"2008-01-23T04:56:22.5+02:00"}`},
		{name: "upper case unchanged", rt: th, in: `{` + sch + `,"t":"2008-01-23T04:56:22Z"}`, want: `{` + sch + `,"t":"2008-01-23T04:56:22Z"}`},
		{name: "still not a date", rt: th, in: `{` + sch + `,"t":"2008-01-23x04:56:22z"}`, errType: "invalidValue", detail: `"t"`},
	})
}
