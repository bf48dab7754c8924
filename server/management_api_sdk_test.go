package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gatehouse-id/gatehouse/account"
	"github.com/gatehouse-id/gatehouse/clients"
)

// managementSDKDir holds the Node harness that runs the auth0 package's
// ManagementClient (see its check.mjs); scripts/test.sh installs its
// packages.
const managementSDKDir = "../e2e/management-api"

// managementSDKChecks are the checks check.mjs makes, in its order.
var managementSDKChecks = []string{
	"users.get reads the imported user by their Auth0 user_id",
	"users.listUsersByEmail finds the user",
	"users.list searches by email with search_engine v3",
	"users.update merges metadata",
	"users.get shows the update",
	"a client granted read:users only cannot update",
	"oversized metadata is refused",
	"an unknown user is a 404",
}

func managementSDKPrerequisites() error {
	if _, err := exec.LookPath("node"); err != nil {
		return errors.New("node is not on PATH: the Management API harness needs Node.js 20.19 or later")
	}
	if _, err := os.Stat(filepath.Join(managementSDKDir, "node_modules", "auth0")); err != nil {
		return errors.New("e2e/management-api has no node_modules: run `npm ci --prefix e2e/management-api` (scripts/test.sh does)")
	}
	return nil
}

// TestAuth0ManagementClient runs e2e/management-api/check.mjs: a backend's
// use of the auth0 package's ManagementClient (7.x) against a user imported
// from an Auth0 export, over HTTPS as the SDK requires, its domain being
// the harness's host and port. Each check is a subtest. Under
// GATEHOUSE_E2E=required (scripts/test.sh) a missing Node or package fails
// the test instead of skipping it.
func TestAuth0ManagementClient(t *testing.T) {
	if err := managementSDKPrerequisites(); err != nil {
		if os.Getenv("GATEHOUSE_E2E") == "required" {
			t.Fatalf("GATEHOUSE_E2E=required, but %v", err)
		}
		t.Skip(err)
	}
	h := newHarness(t, func(o *options) { o.tls = true })
	imported := h.importFromAuth0(t, `{"user_id":"`+auth0Subject+`","email":"imp@example.com",`+
		`"user_metadata":{"theme":"dark"},"app_metadata":{"plan":"pro"}}`+"\n")[0]
	api, err := h.st.APIByIdentifier(context.Background(), h.server.ManagementAudience())
	if err != nil {
		t.Fatal(err)
	}
	grant := func(id string, scopes ...string) string {
		secret := h.newMachineClient(t, id)
		if err := h.st.SetGrant(context.Background(), clients.Grant{ClientID: id, APIID: api.ID, Scopes: scopes}); err != nil {
			t.Fatal(err)
		}
		return secret
	}
	backendSecret := grant("backend", "read:users", "update:users")
	readerSecret := grant("reader", "read:users")

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	issuer, err := url.Parse(h.issuer)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "check.mjs")
	cmd.Dir = managementSDKDir
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+caFile,
		"DOMAIN="+issuer.Host,
		"CLIENT_ID=backend", "CLIENT_SECRET="+backendSecret,
		"READER_CLIENT_ID=reader", "READER_CLIENT_SECRET="+readerSecret,
		"USER_ID="+auth0Subject,
		"EMAIL=imp@example.com",
	)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("check.mjs did not finish within 2 minutes; stderr:\n%s", stderr.String())
	}

	results := map[string]string{}
	lines := bufio.NewScanner(&stdout)
	for lines.Scan() {
		var line struct {
			Check string `json:"check"`
			OK    bool   `json:"ok"`
			Error string `json:"error"`
		}
		if err := json.Unmarshal(lines.Bytes(), &line); err != nil {
			t.Errorf("check.mjs printed %q: %v", lines.Text(), err)
			continue
		}
		results[line.Check] = line.Error
		if !line.OK && line.Error == "" {
			results[line.Check] = "failed without saying why"
		}
	}
	for _, name := range managementSDKChecks {
		t.Run(name, func(t *testing.T) {
			why, ran := results[name]
			switch {
			case !ran:
				t.Fatalf("check.mjs stopped before this check (standard error: %q)", stderr.String())
			case why != "":
				t.Fatal(why)
			}
		})
	}
	for name := range results {
		if !slices.Contains(managementSDKChecks, name) {
			t.Errorf("check.mjs made a check %q this test does not list", name)
		}
	}
	if runErr != nil && !t.Failed() {
		t.Fatalf("check.mjs: %v; stderr:\n%s", runErr, stderr.String())
	}

	// What the SDK changed is what Gatehouse keeps, and the audit log says
	// which application changed it.
	u, err := h.accounts.User(context.Background(), imported.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, u.AppMetadata, `{"plan":"team","seats":5}`) || !sameJSON(t, u.UserMetadata, `{"lang":"fr"}`) {
		t.Errorf("stored metadata: %s %s", u.UserMetadata, u.AppMetadata)
	}
	if e := h.lastAudit(t, account.EventMetadataChanged); e.UserID != imported.ID || !bytes.Contains([]byte(e.Details), []byte("api:backend")) {
		t.Errorf("audit: %+v", e)
	}
}
