package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// composeCommand is how this machine runs Docker Compose: the docker CLI's
// plugin or the older standalone docker-compose. Validating a file needs
// neither a Docker engine nor the network.
func composeCommand(t *testing.T) []string {
	t.Helper()
	if _, err := exec.LookPath("docker"); err == nil {
		if exec.Command("docker", "compose", "version").Run() == nil {
			return []string{"docker", "compose"}
		}
	}
	if _, err := exec.LookPath("docker-compose"); err == nil {
		return []string{"docker-compose"}
	}
	t.Skip("neither `docker compose` nor docker-compose is installed: docker-compose.yml is not validated " +
		"(apt-get install docker-compose, or the docker-compose-plugin package, to check it)")
	return nil
}

// TestDockerComposeFileIsValid checks docker-compose.yml with `compose
// config`, and that it refuses to start without a master key rather than
// making one up.
func TestDockerComposeFileIsValid(t *testing.T) {
	compose := composeCommand(t)
	var base []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GATEHOUSE_SECRET_KEY=") {
			base = append(base, kv)
		}
	}
	run := func(env []string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, compose[0], append(compose[1:], "-f", "../../docker-compose.yml", "config", "-q")...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(append(base, "GATEHOUSE_SECRET_KEY="+testKey)); err != nil {
		t.Fatalf("%s config: %v\n%s", strings.Join(compose, " "), err, out)
	}
	if out, err := run(base); err == nil || !strings.Contains(out, "GATEHOUSE_SECRET_KEY") {
		t.Fatalf("without GATEHOUSE_SECRET_KEY: %v\n%s\nwant a refusal naming the variable", err, out)
	}
}

// TestDockerComposeEnvironmentStartsServe runs serve's configuration loading
// on the gatehouse service's environment in docker-compose.yml, so that
// `docker compose up` does not stop at a setting serve requires.
func TestDockerComposeEnvironmentStartsServe(t *testing.T) {
	raw, err := os.ReadFile("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatal(err)
	}
	svc, ok := file.Services["gatehouse"]
	if !ok || len(svc.Command) == 0 || svc.Command[0] != "serve" {
		t.Fatalf("no gatehouse service running serve in docker-compose.yml: %+v", svc)
	}
	vars := map[string]string{}
	for k, v := range svc.Environment {
		if strings.HasPrefix(v, "${") {
			v = testKey // the operator's value, which compose insists on
		}
		vars[k] = v
	}
	if _, err := loadConfig(env{getenv: func(k string) string { return vars[k] }}, serverFlags{}, false); err != nil {
		t.Fatalf("serve would refuse docker-compose.yml's environment: %v", err)
	}
}
