package loadgen

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything one driver invocation measured.
type Report struct {
	Bounds  Bounds
	Runs    []Result // in the order run; several runs of a mode are summarized by their median
	Targets int      // replicas

	// The password hash of a password-only login, when it is not
	// Gatehouse's argon2id (another server's bcrypt, say): its name and the
	// core time one verification takes here.
	HashName string
	HashCPU  time.Duration
}

func (r *Report) hashName() string {
	if r.HashName != "" {
		return r.HashName
	}
	return "argon2id"
}

// table is rows of cells, printed aligned or as Markdown.
type table [][]string

func (t table) write(w io.Writer, markdown bool) {
	if len(t) == 0 {
		return
	}
	if markdown {
		for i, row := range t {
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
			if i == 0 {
				seps := make([]string, len(row))
				for j := range seps {
					seps[j] = "---"
				}
				fmt.Fprintf(w, "| %s |\n", strings.Join(seps, " | "))
			}
		}
		fmt.Fprintln(w)
		return
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	for _, row := range t {
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// modes returns the modes run, in first-run order.
func (r *Report) modes() []string {
	var out []string
	seen := map[string]bool{}
	for _, res := range r.Runs {
		if !seen[res.Mode] {
			seen[res.Mode] = true
			out = append(out, res.Mode)
		}
	}
	return out
}

func (r *Report) runsOf(mode string) []Result {
	var out []Result
	for _, res := range r.Runs {
		if res.Mode == mode {
			out = append(out, res)
		}
	}
	return out
}

// bound is the best rate the crypto allows for a mode, with how it was
// reckoned; 0 when the mode has no crypto bound.
func (r *Report) bound(mode string, sigs float64) (float64, string) {
	b := r.Bounds
	switch mode {
	case ModeLogin:
		return b.LoginBound(sigs), fmt.Sprintf("1 argon2id + %.2g RS256", sigs)
	case ModeFlood:
		return b.PasswordBound(), "1 argon2id"
	case ModeRefresh:
		return b.RefreshBound(sigs), fmt.Sprintf("%.2g RS256", sigs)
	case ModePasswordOnly:
		if c := r.cryptoCPU(mode, sigs); c > 0 {
			return float64(b.Cores) / c.Seconds(), fmt.Sprintf("1 %s + %.2g RS256", r.hashName(), sigs)
		}
	}
	return 0, ""
}

// cryptoCPU is the core time a mode's unavoidable crypto takes at the
// speed the bounds measured: all cores busy, each operation costs cores/rate.
func (r *Report) cryptoCPU(mode string, sigs float64) time.Duration {
	b := r.Bounds
	if b.Argon2PerSec == 0 || b.RSASignPerSec == 0 {
		return 0
	}
	argon, sign := b.Argon2CPU.Seconds(), b.RSASignCPU.Seconds()
	var s float64
	switch mode {
	case ModeLogin:
		s = argon + sigs*sign
	case ModeFlood:
		s = argon
	case ModeRefresh:
		s = sigs * sign
	case ModePasswordOnly:
		s = argon + sigs*sign
		if r.HashCPU > 0 {
			s = r.HashCPU.Seconds() + sigs*sign
		}
	}
	return time.Duration(s * float64(time.Second))
}

// Write prints the bounds, a summary line per mode, each run, the per-step
// latencies and the errors.
func (r *Report) Write(w io.Writer, markdown bool) {
	b := r.Bounds
	fmt.Fprintf(w, "Machine bounds (%d cores, loadavg %s), all cores busy:\n"+
		"  argon2id m=19456 KiB t=2 p=1 verification: %.1f ms of core time -> %.1f/s (wall clock: %.1f/s)\n"+
		"  RSA-2048 RS256 signature: %.3f ms of core time -> %.0f/s (wall clock: %.0f/s)\n"+
		"Ratios use the core-time rates, which other load on the machine moves much less than the wall clock.\n",
		b.Cores, b.Load, b.Argon2CPU.Seconds()*1000, b.Argon2PerSec, b.Argon2Wall,
		b.RSASignCPU.Seconds()*1000, b.RSASignPerSec, b.RSASignWall)
	if r.HashCPU > 0 {
		fmt.Fprintf(w, "The password-only logins' hash is %s: %.1f ms of core time per verification.\n", r.HashName, r.HashCPU.Seconds()*1000)
	}
	fmt.Fprintln(w)

	summary := table{{"mode", "conc", "replicas", "runs", "median rate/s", "bound/s", "share of bound", "p50 ms", "p95 ms", "p99 ms", "errors", "peak RSS MiB", "loadavg at start"}}
	for _, mode := range r.modes() {
		runs := r.runsOf(mode)
		rates := make([]float64, len(runs))
		var sigs, toks, errs int
		var lat []time.Duration
		loads := make([]string, len(runs))
		for i, res := range runs {
			rates[i] = res.Rate()
			sigs += res.Stats.Sigs
			toks += res.Stats.Tokens
			errs += res.Stats.ErrorCount()
			lat = append(lat, res.latencies()...)
			loads[i] = strings.Fields(res.LoadStart + " ?")[0]
		}
		med := Median(rates)
		perTok := 0.0
		if toks > 0 {
			perTok = float64(sigs) / float64(toks)
		}
		bound, _ := r.bound(mode, perTok)
		share := "-"
		boundS := "-"
		if bound > 0 {
			share = fmt.Sprintf("%.0f%%", 100*med/bound)
			boundS = fmt.Sprintf("%.1f", bound)
		}
		l := Summarize(lat)
		summary = append(summary, []string{mode, fmt.Sprint(runs[0].Concurrency), fmt.Sprint(r.Targets), fmt.Sprint(len(runs)),
			fmt.Sprintf("%.1f", med), boundS, share, ms(l.P50), ms(l.P95), ms(l.P99), fmt.Sprint(errs), peakOf(runs), strings.Join(loads, ", ")})
	}
	fmt.Fprintln(w, "Summary (rate: median over runs; latency: all runs pooled; per journey for login, flood and refresh, per request otherwise)")
	fmt.Fprintln(w)
	summary.write(w, markdown)

	runs := table{{"mode", "run", "conc", "seconds", "ok", "rate/s", "RS256 per token response", "errors", "loadavg start", "loadavg end", "replica CPU s", "peak RSS"}}
	for _, mode := range r.modes() {
		for i, res := range r.runsOf(mode) {
			sig := "-"
			if res.Stats.Tokens > 0 {
				sig = fmt.Sprintf("%.2f", res.Stats.SigsPerToken())
			}
			runs = append(runs, []string{mode, fmt.Sprint(i + 1), fmt.Sprint(res.Concurrency), fmt.Sprintf("%.1f", res.Elapsed.Seconds()),
				fmt.Sprint(res.Done), fmt.Sprintf("%.1f", res.Rate()), sig, fmt.Sprint(res.Stats.ErrorCount()), res.LoadStart, res.LoadEnd, res.cpuByPID(), res.hwm()})
		}
	}
	cpu := table{{"mode", "ops", "replicas ms/op", "crypto ms/op at bound speed", "replicas beyond crypto ms/op", "postgres ms/op", "replicas + postgres beyond crypto ms/op", "driver ms/op"}}
	for _, mode := range r.modes() {
		var done int
		var server, db, driver time.Duration
		var sigs, toks int
		for _, res := range r.runsOf(mode) {
			done += res.Done
			server, db, driver = server+res.ServerCPU, db+res.DBCPU, driver+res.DriverCPU
			sigs, toks = sigs+res.Stats.Sigs, toks+res.Stats.Tokens
		}
		if done == 0 {
			continue
		}
		per := func(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()*1000/float64(done)) }
		crypto, beyond, both := "-", "-", "-"
		perTok := 0.0
		if toks > 0 {
			perTok = float64(sigs) / float64(toks)
		}
		if c := r.cryptoCPU(mode, perTok); c > 0 {
			crypto = fmt.Sprintf("%.3f", c.Seconds()*1000)
			beyond = fmt.Sprintf("%.3f", (server.Seconds()/float64(done)-c.Seconds())*1000)
			both = fmt.Sprintf("%.3f", ((server+db).Seconds()/float64(done)-c.Seconds())*1000)
		}
		cpu = append(cpu, []string{mode, fmt.Sprint(done), per(server), crypto, beyond, per(db), both, per(driver)})
	}
	fmt.Fprintln(w, "CPU time per operation (all runs pooled; /proc/<pid>/stat, 10 ms ticks; crypto at bound speed is the core time the bounds imply)")
	fmt.Fprintln(w)
	cpu.write(w, markdown)

	for i, res := range r.runsOf(ModeFlood) {
		bound := RSSBound(r.Bounds.Cores, 19456)
		for _, pid := range sortedKeys(res.HWM) {
			v := res.HWM[pid]
			verdict := "within"
			if v > bound {
				verdict = "OVER"
			}
			fmt.Fprintf(w, "Peak RSS of replica pid %d during flood run %d (%d virtual users): %.1f MiB, %s the bound 64 MiB + %d hash slots x 19 MiB = %.0f MiB\n",
				pid, i+1, res.Concurrency, float64(v)/(1<<20), verdict, r.Bounds.Cores, float64(bound)/(1<<20))
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Runs")
	fmt.Fprintln(w)
	runs.write(w, markdown)

	steps := table{{"mode", "step", "n", "p50 ms", "p95 ms", "p99 ms", "max ms"}}
	for _, mode := range r.modes() {
		pooled := newStats()
		for _, res := range r.runsOf(mode) {
			pooled.merge(res.Stats)
		}
		order := LoginSteps
		switch mode {
		case ModeFlood:
			order = LoginSteps[:3]
		case ModeRefresh:
			order = []string{StepRefresh}
		case ModePasswordOnly:
			order = []string{StepOIDCAuthorize, StepOIDCPassword, StepOIDCAfter, StepOIDCToken, StepOIDCVerify}
		case ModeDiscovery, ModeJWKS:
			order = nil
			for k := range pooled.Steps {
				order = append(order, k)
			}
		}
		for _, step := range order {
			l := Summarize(pooled.Steps[step])
			if l.N == 0 {
				continue
			}
			steps = append(steps, []string{mode, step, fmt.Sprint(l.N), ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max)})
		}
		if mode == ModeLogin || mode == ModeFlood || mode == ModeRefresh || mode == ModePasswordOnly {
			l := Summarize(pooled.Journeys)
			steps = append(steps, []string{mode, "whole journey", fmt.Sprint(l.N), ms(l.P50), ms(l.P95), ms(l.P99), ms(l.Max)})
		}
	}
	fmt.Fprintln(w, "Latency per step (all runs pooled)")
	fmt.Fprintln(w)
	steps.write(w, markdown)

	errs := table{{"mode", "error", "count"}}
	for _, mode := range r.modes() {
		pooled := newStats()
		for _, res := range r.runsOf(mode) {
			pooled.merge(res.Stats)
		}
		for _, k := range pooled.ErrorKinds() {
			errs = append(errs, []string{mode, k, fmt.Sprint(pooled.Errors[k])})
		}
	}
	if len(errs) > 1 {
		fmt.Fprintln(w, "Errors")
		fmt.Fprintln(w)
		errs.write(w, markdown)
	} else {
		fmt.Fprintln(w, "Errors: none")
	}
}

// latencies are the run's whole journeys, or its requests for the modes
// that have no journeys.
func (r Result) latencies() []time.Duration {
	if len(r.Stats.Journeys) > 0 {
		return append([]time.Duration(nil), r.Stats.Journeys...)
	}
	var out []time.Duration
	for _, v := range r.Stats.Steps {
		out = append(out, v...)
	}
	return out
}

func (r Result) cpuByPID() string {
	if len(r.CPUByPID) == 0 {
		return "-"
	}
	pids := make([]int, 0, len(r.CPUByPID))
	for pid := range r.CPUByPID {
		pids = append(pids, pid)
	}
	sort.Ints(pids)
	parts := make([]string, len(pids))
	for i, pid := range pids {
		parts[i] = fmt.Sprintf("%d: %.2f", pid, r.CPUByPID[pid].Seconds())
	}
	return strings.Join(parts, ", ")
}

// peakOf is the highest peak RSS of any replica in any of runs, in MiB, or
// "-" when none was measured.
func peakOf(runs []Result) string {
	var peak int64
	for _, res := range runs {
		for _, v := range res.HWM {
			peak = max(peak, v)
		}
	}
	if peak == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(peak)/(1<<20))
}

func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

func (r Result) hwm() string {
	if len(r.HWM) == 0 {
		return "-"
	}
	pids := sortedKeys(r.HWM)
	parts := make([]string, len(pids))
	for i, pid := range pids {
		parts[i] = fmt.Sprintf("%d: %.1f MiB", pid, float64(r.HWM[pid])/(1<<20))
	}
	return strings.Join(parts, ", ")
}
