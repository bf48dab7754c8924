package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/roles"
)

// roleLine is one role of a roles file: the Management API's role with its
// permissions (GET /api/v2/roles/{id}/permissions) and users (GET
// /api/v2/roles/{id}/users) put beside it.
type roleLine struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Permissions []struct {
		Audience string `json:"resource_server_identifier"`
		Value    string `json:"permission_name"`
	} `json:"permissions"`
	Users []struct {
		Email string `json:"email"`
	} `json:"users"`
}

// runImportAuth0Roles reads Auth0's roles, their permissions and members and
// makes them Gatehouse's: a role that exists is reused and its permissions
// set to the file's, so running the file again is safe.
func runImportAuth0Roles(ctx context.Context, e env, args []string) error {
	fs := newFlagSet(e, "import auth0-roles ROLES.ndjson [flags]",
		"Imports Auth0's roles, one JSON object per line: the role's name and description,\n"+
			"its permissions ({resource_server_identifier, permission_name}) and its users\n"+
			"(matched by email), as docs/roles-and-permissions.md shows how to gather them.\n"+
			"A role that exists is reused and its permissions replaced by the file's. Refused\n"+
			"lines and unknown users go to stderr; the exit status is 1 if any failed.",
		"DATABASE_URL")
	databaseURL := fs.String("database-url", "", "Postgres connection URL (overrides DATABASE_URL)")
	path, err := parseFlagsAndArg(fs, args, "roles file")
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open the roles file: %w", err)
	}
	defer f.Close()
	st, err := openCLIStore(ctx, e, *databaseURL, false)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newRoles(st)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	var lines, failed, assigned int
	fail := func(n int, what string, err error) {
		failed++
		fmt.Fprintf(e.stderr, "line %d: %s: %v\n", n, what, err)
	}
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		lines++
		var l roleLine
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			fail(n, "not a role", err)
			continue
		}
		r, err := svc.Role(ctx, l.Name)
		if errors.Is(err, roles.ErrNotFound) {
			r, err = svc.CreateRole(ctx, roles.Role{Name: l.Name, Description: l.Description}, cliActor(), account.Meta{})
		}
		if err != nil {
			fail(n, l.Name, explainRoleError(err, l.Name))
			continue
		}
		perms := make([]roles.Permission, len(l.Permissions))
		for i, p := range l.Permissions {
			perms[i] = roles.Permission{Audience: p.Audience, Value: p.Value}
		}
		if _, err := svc.SetPermissions(ctx, r.ID, perms, cliActor(), account.Meta{}); err != nil {
			fail(n, l.Name, explainRoleError(err, l.Name))
			continue
		}
		for _, u := range l.Users {
			user, err := st.UserByEmail(ctx, u.Email)
			if errors.Is(err, account.ErrNotFound) {
				fail(n, l.Name, fmt.Errorf("no user has the email %q (import the users first)", u.Email))
				continue
			}
			if err == nil {
				err = svc.AddUserRoles(ctx, user.ID, []string{r.ID}, cliActor(), account.Meta{})
			}
			if err != nil {
				fail(n, l.Name+" for "+u.Email, err)
				continue
			}
			assigned++
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read the roles file: %w", err)
	}
	fmt.Fprintf(e.stdout, "%d roles read, %d assignments made, %d problems\n", lines, assigned, failed)
	if failed > 0 {
		return errors.New("some lines failed; fix them and run the file again")
	}
	return nil
}
