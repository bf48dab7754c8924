package main

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
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
