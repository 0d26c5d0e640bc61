package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// End-to-end tests of the duties towards users (issue 5), each on a whole
// gateway whose clock the test drives: no test sleeps.

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *testClock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// admin calls the admin API.
func (g *gateway) admin(method, path, body string) response {
	g.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	return g.do(method, path, g.adminKey, r, "Content-Type", "application/json")
}

// addUser creates a user through the admin API and returns its id and key.
func (g *gateway) addUser(name string) (id, key string) {
	g.t.Helper()
	resp := g.admin("POST", "/admin/users", `{"name":"`+name+`"}`)
	if resp.status != 201 {
		g.t.Fatalf("create user: %d %s", resp.status, resp.body)
	}
	m := resp.json(g.t)
	return m["user"].(map[string]any)["id"].(string), m["api_key"].(string)
}

func (g *gateway) duties(id string) map[string]any {
	g.t.Helper()
	resp := g.admin("GET", "/admin/users/"+id+"/duties", "")
	if resp.status != 200 {
		g.t.Fatalf("duties(%s): %d %s", id, resp.status, resp.body)
	}
	return resp.json(g.t)
}

// apiError returns the envelope's error object, failing unless status matches.
func apiError(t *testing.T, r response, status int, code string) map[string]any {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	e, _ := r.json(t)["error"].(map[string]any)
	if e == nil || e["code"] != code {
		t.Fatalf("error = %s, want code %s", r.body, code)
	}
	return e
}

func mustOK(t *testing.T, r response) map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status = %d, want 200: %s", r.status, r.body)
	}
	return r.json(t)
}

func TestAgreementMustBeAccepted(t *testing.T) {
	g := startGateway(t, "users: {agreement: {version: '2026-01'}}")
	id, key := g.addUser("ann")

	e := apiError(t, g.post("/v1/chat/completions", key, chat("你好", false)), 403, "agreement_required")
	if e["link"] != "/agreement" || e["type"] != "permission_error" || !strings.Contains(e["message"].(string), "2026-01") {
		t.Errorf("refusal = %v", e)
	}
	got := mustOK(t, g.do("GET", "/v1/agreement", key, nil))
	ag := got["agreement"].(map[string]any)
	text := ag["text"].(string)
	sum := sha256.Sum256([]byte(text))
	if ag["version"] != "2026-01" || !strings.Contains(text, "标识") || ag["sha256"] != hex.EncodeToString(sum[:]) || got["accepted"] != nil {
		t.Errorf("GET /v1/agreement = %v", got)
	}
	// The page shows the text; JSON when asked for.
	page := g.do("GET", "/agreement", "", nil)
	if page.status != 200 || !strings.Contains(string(page.body), "生成内容的标识") || page.header.Get("Content-Security-Policy") == "" {
		t.Errorf("GET /agreement = %d %.200s", page.status, page.body)
	}
	if m := mustOK(t, g.do("GET", "/agreement", "", nil, "Accept", "application/json")); m["version"] != "2026-01" {
		t.Errorf("agreement JSON = %v", m)
	}

	apiError(t, g.post("/v1/agreement/accept", key, `{"version":"2025-01"}`), 400, "invalid_value")
	acc := mustOK(t, g.post("/v1/agreement/accept", key, `{"version":"2026-01"}`))["accepted"].(map[string]any)
	if acc["channel"] != "api" || acc["sha256"] != hex.EncodeToString(sum[:]) || acc["accepted_at"] == "" {
		t.Errorf("acceptance = %v", acc)
	}
	mustOK(t, g.post("/v1/chat/completions", key, chat("你好", false)))
	if d := g.duties(id); d["agreement"].(map[string]any)["accepted"].(map[string]any)["version"] != "2026-01" {
		t.Errorf("duties = %v", d)
	}

	// Bad publications change nothing.
	apiError(t, g.admin("POST", "/admin/agreements", `{"version":"2026-02","text":"# Terms\nBe nice."}`), 400, "invalid_value")
	apiError(t, g.admin("POST", "/admin/agreements", `{"version":"2026-01","text":"内容标识 labels"}`), 409, "conflict")
	apiError(t, g.admin("POST", "/admin/agreements", `{"version":"","text":"内容标识"}`), 400, "invalid_value")
	apiError(t, g.admin("POST", "/admin/agreements", `{"version":"x","text":"标识","extra":1}`), 400, "unknown_field")
	mustOK(t, g.post("/v1/chat/completions", key, chat("你好", false)))

	// A new version must be accepted again, here on the web page.
	if r := g.admin("POST", "/admin/agreements", `{"version":"2026-02","text":"# 协议 v2\n\n生成内容带有标识。Generated content is labelled."}`); r.status != 201 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	apiError(t, g.post("/v1/chat/completions", key, chat("你好", false)), 403, "agreement_required")
	b := newBrowser(t, g)
	b.login(key)
	body := b.get("/agreement")
	if !strings.Contains(body, `action="/agreement/accept"`) {
		t.Fatalf("no accept form on the agreement page: %s", body)
	}
	b.post("/agreement/accept", url.Values{"version": {"2026-02"}})
	mustOK(t, g.post("/v1/chat/completions", key, chat("你好", false)))
	list := mustOK(t, g.admin("GET", "/admin/agreements", ""))["data"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["version"] != "2026-02" {
		t.Errorf("agreements = %v", list)
	}
	if acc := g.duties(id)["agreement"].(map[string]any)["accepted"].(map[string]any); acc["channel"] != "web" || acc["version"] != "2026-02" {
		t.Errorf("web acceptance = %v", acc)
	}
	if ev := g.events("agreement.accepted"); len(ev) != 2 {
		t.Errorf("agreement.accepted events = %d, want 2", len(ev))
	}
}

// browser is a cookie-keeping client that submits the pages' forms.
type browser struct {
	t *testing.T
	g *gateway
	c *http.Client
}

func newBrowser(t *testing.T, g *gateway) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, g: g, c: &http.Client{Jar: jar}}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) get(path string) string {
	b.t.Helper()
	resp, err := b.c.Get(b.g.url + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		b.t.Fatalf("GET %s = %d %s", path, resp.StatusCode, body)
	}
	return string(body)
}

// post submits a form with the CSRF token of the page it was on.
func (b *browser) post(path string, form url.Values) (int, string) {
	b.t.Helper()
	m := csrfRE.FindStringSubmatch(b.get("/settings"))
	if m == nil {
		b.t.Fatalf("no CSRF token on /settings")
	}
	form.Set("csrf", m[1])
	resp, err := b.c.PostForm(b.g.url+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) login(key string) {
	b.t.Helper()
	if code, body := b.post("/settings/login", url.Values{"api_key": {key}}); code != 200 || !strings.Contains(body, `action="/settings/logout"`) {
		b.t.Fatalf("login = %d %s", code, body)
	}
}

func TestDisclosureAndTrainingOptOutWithinFourClicks(t *testing.T) {
	g := startGateway(t, `users:
  disclosure:
    provider: 示例科技有限公司
    foundation_models: ["Qwen3-8B (Alibaba)"]
    filed_model_name: 示例大模型
    filing_number: Beijing-ShiLi-202601010001
    complaints: ["电话 Phone: 400-000-0000", "邮箱 Email: report@example.cn"]
    training_use: true
`)
	id, key := g.addUser("ben")

	html := g.do("GET", "/disclosure", "", nil)
	for _, want := range []string{"示例大模型", "Beijing-ShiLi-202601010001", "Qwen3-8B (Alibaba)", "12377", "report@example.cn", "适用人群", "局限性", "模型架构", `href="/settings"`} {
		if !strings.Contains(string(html.body), want) {
			t.Errorf("/disclosure lacks %q", want)
		}
	}
	var js map[string]any
	if err := json.Unmarshal(g.do("GET", "/disclosure", "", nil, "Accept", "application/json").body, &js); err != nil || js["filing_number"] != "Beijing-ShiLi-202601010001" ||
		js["training_use"] != true || js["training_opt_out_url"] != "/settings" || len(js["foundation_models"].([]any)) != 1 {
		t.Errorf("/disclosure JSON = %v, %v", js, err)
	}

	// From the main page: (1) Settings, (2) sign in, (3) opt out.
	b := newBrowser(t, g)
	clicks := 0
	main := b.get("/")
	if !strings.Contains(main, `href="/settings"`) {
		t.Fatalf("main page has no link to settings: %s", main)
	}
	clicks++ // follow the link
	if !strings.Contains(b.get("/settings"), `action="/settings/login"`) {
		t.Fatal("settings page has no sign-in form")
	}
	clicks++ // sign in
	b.login(key)
	clicks++ // the opt-out button
	code, body := b.post("/settings", url.Values{"training": {"opt_out"}})
	if code != 200 || !strings.Contains(body, "已保存") {
		t.Fatalf("opt out = %d %s", code, body)
	}
	if clicks > 4 {
		t.Errorf("opt-out took %d clicks, TC260-003 §7 c allows 4", clicks)
	}
	if p := g.duties(id)["profile"].(map[string]any); p["training_opt_out"] != true {
		t.Errorf("profile after opt-out = %v", p)
	}

	// A form without its token, or from another browser, changes nothing.
	other := newBrowser(t, g)
	resp, err := other.c.PostForm(g.url+"/settings", url.Values{"training": {"opt_in"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("forged form = %d, want 403", resp.StatusCode)
	}
	// A wrong key does not sign in; revoking the key ends the session.
	if code, _ := other.post("/settings/login", url.Values{"api_key": {"gg-nope"}}); code != 401 {
		t.Errorf("bad key login = %d, want 401", code)
	}
	if code, _ := other.post("/settings/login", url.Values{"api_key": {g.adminKey}}); code != 401 {
		t.Errorf("admin key login = %d, want 401", code)
	}
	if p := g.duties(id)["profile"].(map[string]any); p["training_opt_out"] != true {
		t.Errorf("profile changed by a forged form: %v", p)
	}
	keyID := strings.SplitN(strings.TrimPrefix(key, "gg-"), ".", 2)[0]
	mustOK(t, g.admin("DELETE", "/admin/keys/"+keyID, ""))
	if body := b.get("/settings"); !strings.Contains(body, `action="/settings/login"`) {
		t.Errorf("session survived key revocation")
	}
}

func TestMinorsMode(t *testing.T) {
	clk := &testClock{t: at("2026-11-26 09:00")}
	g := startGateway(t, "", withClock(clk.Now))
	id, key := g.addUser("kid")
	apiError(t, g.admin("PUT", "/admin/users/"+id+"/age_band", `{"age_band":"twelve"}`), 400, "invalid_value")
	apiError(t, g.admin("PUT", "/admin/users/nobody/age_band", `{"age_band":"under16"}`), 404, "not_found")
	mustOK(t, g.admin("PUT", "/admin/users/"+id+"/age_band", `{"age_band":"under16"}`))

	send := func() response { return g.post("/v1/chat/completions", key, chat("你好", false)) }
	// Sessions separated by more than the idle gap count no time.
	mustOK(t, send())
	clk.Set(at("2026-11-26 09:20"))
	mustOK(t, send())
	if m := g.duties(id)["minors"].(map[string]any); m["used_today"] != "0s" || m["minor"] != true || m["daily_limit"] != "1h0m0s" {
		t.Errorf("after two isolated requests: %v", m)
	}

	// Continuous use: a request every 4 minutes from 10:00.
	clk.Set(at("2026-11-26 10:00"))
	for i := 0; i <= 15; i++ {
		r := send()
		m := mustOK(t, r)
		notice := r.header.Get("Genguard-Notice")
		if i*4 >= 30 {
			gg, _ := m["genguard"].(map[string]any)
			if notice != "break_reminder" || gg == nil || !strings.Contains(gg["notice"].(string), "30") {
				t.Errorf("after %d min: notice %q, genguard %v; want a break reminder", i*4, notice, gg)
			}
		} else if notice != "" {
			t.Errorf("after %d min: unexpected notice %q", i*4, notice)
		}
		clk.Add(4 * time.Minute)
	}
	// 60 minutes used: refused until the curfew ends tomorrow.
	e := apiError(t, send(), 403, "minors_daily_limit")
	if !strings.Contains(e["message"].(string), "2026-11-27 06:00") {
		t.Errorf("limit message = %q, want the resume time", e["message"])
	}
	r := send()
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra != int(at("2026-11-27 06:00").Sub(clk.Now()).Seconds()) {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}

	// The count survives a restart.
	dir := g.dataDir
	adminKey := g.adminKey
	if code := g.shutdown(); code != 0 {
		t.Fatalf("shutdown = %d", code)
	}
	g = startGateway(t, "", withClock(clk.Now), withDataDir(dir))
	g.adminKey = adminKey
	apiError(t, send(), 403, "minors_daily_limit")

	// Night: no service 22:00–06:00 local time.
	clk.Set(at("2026-11-27 05:59"))
	e = apiError(t, send(), 403, "minors_curfew")
	if !strings.Contains(e["message"].(string), "2026-11-27 06:00") {
		t.Errorf("curfew message = %q", e["message"])
	}
	clk.Set(at("2026-11-27 06:00"))
	mustOK(t, send())
	clk.Set(at("2026-11-27 22:00"))
	apiError(t, send(), 403, "minors_curfew")

	// Stricter moderation: a minor's review hit is blocked, an adult's passes.
	clk.Set(at("2026-11-28 12:00"))
	mustOK(t, send())
	kid := mustOK(t, g.post("/v1/chat/completions", key, chat("审核词", false)))
	if kid["choices"].([]any)[0].(map[string]any)["finish_reason"] != "content_filter" || kid["genguard"].(map[string]any)["decision"] != "block" {
		t.Errorf("minor's review hit = %v, want blocked", kid)
	}
	_, adultKey := g.addUser("adult")
	adult := mustOK(t, g.post("/v1/chat/completions", adultKey, chat("审核词", false)))
	if adult["choices"].([]any)[0].(map[string]any)["finish_reason"] == "content_filter" {
		t.Errorf("adult's review hit was blocked: %v", adult)
	}
	// /v1/moderations answers with the caller's own policy.
	decision := func(k string) any {
		res := mustOK(t, g.post("/v1/moderations", k, `{"input":"审核词"}`))
		return res["results"].([]any)[0].(map[string]any)["genguard"].(map[string]any)["decision"]
	}
	if kd, ad := decision(key), decision(adultKey); kd != "block" || ad != "review" {
		t.Errorf("moderations: minor %v, adult %v; want block and review", kd, ad)
	}
}

func TestMinorsGuardianSettings(t *testing.T) {
	clk := &testClock{t: at("2026-11-26 07:30")}
	g := startGateway(t, "", withClock(clk.Now))
	id, key := g.addUser("teen")
	mustOK(t, g.admin("PUT", "/admin/users/"+id+"/age_band", `{"age_band":"16-18"}`))
	for body, code := range map[string]string{
		`{"daily_limit":"3h"}`:                                        "invalid_value", // looser than the 2 h default
		`{"daily_limit":"-5m"}`:                                       "invalid_value",
		`{"daily_limit":"soon"}`:                                      "invalid_duration",
		`{"allowed_hours":"8-20"}`:                                    "invalid_value",
		`{"allowed_hours":"25:00-26:00"}`:                             "invalid_value",
		`{"allowed_hours":"08:00-08:00"}`:                             "invalid_value",
		`{"daily_limit":"10m","allowed_hours":"08:00-20:00","pin":1}`: "unknown_field",
	} {
		apiError(t, g.admin("PUT", "/admin/users/"+id+"/guardian", body), 400, code)
	}
	apiError(t, g.admin("PUT", "/admin/users/nobody/guardian", `{"daily_limit":"10m"}`), 404, "not_found")
	if p := g.duties(id)["profile"].(map[string]any)["guardian"].(map[string]any); p["daily_limit"] != "0s" || p["allowed_hours"] != "" {
		t.Fatalf("bad input changed the guardian settings: %v", p)
	}
	mustOK(t, g.admin("PUT", "/admin/users/"+id+"/guardian", `{"daily_limit":"10m","allowed_hours":"08:00-20:00"}`))

	send := func() response { return g.post("/v1/chat/completions", key, chat("你好", false)) }
	e := apiError(t, send(), 403, "minors_curfew")
	if !strings.Contains(e["message"].(string), "2026-11-26 08:00") {
		t.Errorf("guardian hours message = %q", e["message"])
	}
	clk.Set(at("2026-11-26 08:00"))
	for range 4 { // 08:00 … 08:12: 12 minutes used
		mustOK(t, send())
		clk.Add(4 * time.Minute)
	}
	e = apiError(t, send(), 403, "minors_daily_limit")
	if !strings.Contains(e["message"].(string), "2026-11-27 08:00") || !strings.Contains(e["message"].(string), "10") {
		t.Errorf("guardian limit message = %q", e["message"])
	}
}

func TestAgeConfirmationWhenMinorsAreNotServed(t *testing.T) {
	g := startGateway(t, "users: {minors: {serve: false}}")
	id, key := g.addUser("who")
	e := apiError(t, g.post("/v1/chat/completions", key, chat("你好", false)), 403, "age_confirmation_required")
	if e["link"] != "/settings" {
		t.Errorf("link = %v", e["link"])
	}
	b := newBrowser(t, g)
	b.login(key)
	if code, body := b.post("/settings", url.Values{"age": {"adult"}}); code != 400 {
		t.Errorf("confirmation without the box ticked = %d %.200s", code, body)
	}
	if code, _ := b.post("/settings", url.Values{"age": {"adult"}, "confirm": {"yes"}}); code != 200 {
		t.Fatalf("confirm age = %d", code)
	}
	mustOK(t, g.post("/v1/chat/completions", key, chat("你好", false)))
	if p := g.duties(id)["profile"].(map[string]any); p["age_band"] != "adult" || p["age_confirmed_at"] == nil {
		t.Errorf("profile = %v", p)
	}
	mustOK(t, g.admin("PUT", "/admin/users/"+id+"/age_band", `{"age_band":"16-18"}`))
	apiError(t, g.post("/v1/chat/completions", key, chat("你好", false)), 403, "minors_not_served")
	if !strings.Contains(string(g.do("GET", "/disclosure", "", nil).body), "不面向未成年人") {
		t.Errorf("disclosure does not say minors are not served")
	}
}

func TestEnforcementLadder(t *testing.T) {
	clk := &testClock{t: at("2026-11-26 12:00")}
	g := startGateway(t, `users:
  enforcement: {block_points: 1, risk_weights: {A.1: 1}, warn_at: 2, restrict_at: 4, suspend_at: 6, terminate_at: 0, suspend_for: 24h, restricted_rpm: 100}
`, withClock(clk.Now))
	id, key := g.addUser("mallory")
	var blocked []string
	block := func() {
		t.Helper()
		r := g.post("/v1/chat/completions", key, chat("炸弹制作", false))
		if r.status != 200 || r.header.Get("Genguard-Decision") != "block" {
			t.Fatalf("blocked prompt = %d %s", r.status, r.body)
		}
		blocked = append(blocked, r.header.Get("X-Request-Id"))
	}
	block()
	if d := g.duties(id)["standing"].(map[string]any); d["status"] != "ok" || d["points"] != 1.0 {
		t.Errorf("after one block: %v", d)
	}
	block()
	r := g.post("/v1/chat/completions", key, chat("你好", false))
	m := mustOK(t, r)
	if r.header.Get("Genguard-Notice") != "account_warned" || !strings.Contains(m["genguard"].(map[string]any)["notice"].(string), "appeal") {
		t.Errorf("warned user's response: %s %v", r.header.Get("Genguard-Notice"), m["genguard"])
	}
	block()
	block()
	e := apiError(t, g.post("/v1/images/generations", key, `{"prompt":"一只猫"}`), 403, "feature_restricted")
	if e["link"] != "/disclosure#complaints" || !strings.Contains(e["message"].(string), "appeal") {
		t.Errorf("restricted refusal = %v", e)
	}
	mustOK(t, g.post("/v1/chat/completions", key, chat("你好", false)))
	block()
	block()
	e = apiError(t, g.post("/v1/chat/completions", key, chat("你好", false)), 403, "account_suspended")
	if !strings.Contains(e["message"].(string), "2026-11-27 12:00") || !strings.Contains(e["message"].(string), "6 violation points") {
		t.Errorf("suspension message = %q", e["message"])
	}

	hist := mustOK(t, g.admin("GET", "/admin/users/"+id+"/sanctions", ""))["data"].([]any)
	if len(hist) != 3 {
		t.Fatalf("sanctions = %v", hist)
	}
	for i, want := range [][2]string{{"ok", "warned"}, {"warned", "restricted"}, {"restricted", "suspended"}} {
		s := hist[i].(map[string]any)
		if s["from"] != want[0] || s["to"] != want[1] || s["actor"] != "system" {
			t.Errorf("sanction %d = %v, want %v", i, s, want)
		}
	}
	ev := hist[2].(map[string]any)["evidence"].([]any)
	if len(ev) != 6 {
		t.Errorf("suspension evidence = %v, want the 6 blocked requests", ev)
	}
	for _, id := range blocked {
		found := false
		for _, e := range ev {
			found = found || e == id
		}
		if !found {
			t.Errorf("evidence lacks blocked request %s", id)
		}
	}
	if n := len(g.events("sanction.issued")); n != 3 {
		t.Errorf("sanction.issued audit events = %d, want 3", n)
	}

	// The suspension ends by itself; the user stays restricted.
	clk.Add(24*time.Hour + time.Second)
	mustOK(t, g.post("/v1/chat/completions", key, chat("你好", false)))
	apiError(t, g.post("/v1/images/generations", key, `{"prompt":"一只猫"}`), 403, "feature_restricted")

	// Admins act by hand, with a reason; bad input changes nothing.
	for body, code := range map[string]string{
		`{"action":"ban","reason":"x"}`:                                    "invalid_value",
		`{"action":"warn"}`:                                                "invalid_value",
		`{"action":"suspend","reason":"x","until":"tomorrow"}`:             "invalid_time",
		`{"action":"suspend","reason":"x","until":"2020-01-01T00:00:00Z"}`: "invalid_value",
		`{"action":"suspend","reason":"x"}`:                                "invalid_value",
		`{"action":"lift","reason":"x","until":"2030-01-01T00:00:00Z"}`:    "invalid_value",
		`{"action":"lift","reason":"x","why":"y"}`:                         "unknown_field",
	} {
		apiError(t, g.admin("POST", "/admin/users/"+id+"/sanctions", body), 400, code)
	}
	apiError(t, g.admin("POST", "/admin/users/nobody/sanctions", `{"action":"lift","reason":"x"}`), 404, "not_found")
	if len(mustOK(t, g.admin("GET", "/admin/users/"+id+"/sanctions", ""))["data"].([]any)) != 3 {
		t.Errorf("bad sanction requests were recorded")
	}
	if r := g.admin("POST", "/admin/users/"+id+"/sanctions", `{"action":"lift","reason":"appeal upheld","evidence":["complaint_1"]}`); r.status != 201 {
		t.Fatalf("lift = %d %s", r.status, r.body)
	}
	mustOK(t, g.post("/v1/images/generations", key, `{"prompt":"一只猫"}`))
	if r := g.admin("POST", "/admin/users/"+id+"/sanctions", `{"action":"terminate","reason":"repeated illegal requests"}`); r.status != 201 {
		t.Fatalf("terminate = %d %s", r.status, r.body)
	}
	e = apiError(t, g.post("/v1/chat/completions", key, chat("你好", false)), 403, "account_terminated")
	if !strings.Contains(e["message"].(string), "repeated illegal requests") {
		t.Errorf("termination message = %q", e["message"])
	}

	// Export, with time filters.
	all := mustOK(t, g.admin("GET", "/admin/sanctions?from="+url.QueryEscape(at("2026-11-26 00:00").Format(time.RFC3339)), ""))["data"].([]any)
	if len(all) != 5 || all[3].(map[string]any)["actor"] != "admin:"+strings.SplitN(strings.TrimPrefix(g.adminKey, "gg-"), ".", 2)[0] {
		t.Errorf("export = %v", all)
	}
	apiError(t, g.admin("GET", "/admin/sanctions?from=yesterday", ""), 400, "invalid_time")
	apiError(t, g.admin("GET", "/admin/sanctions?limit=-1", ""), 400, "invalid_number")
	apiError(t, g.admin("GET", "/admin/users/nobody/sanctions", ""), 404, "not_found")

	// Thresholds: a -1 or a falling ladder is refused and changes nothing.
	before := mustOK(t, g.admin("GET", "/admin/enforcement", ""))
	apiError(t, g.admin("PUT", "/admin/enforcement", `{"warn_at":-1}`), 400, "invalid_value")
	apiError(t, g.admin("PUT", "/admin/enforcement", `{"restrict_at":1}`), 400, "invalid_value")
	apiError(t, g.admin("PUT", "/admin/enforcement", `{"suspend_for":"a week"}`), 400, "invalid_duration")
	if after := mustOK(t, g.admin("GET", "/admin/enforcement", "")); !equalJSON(before, after) {
		t.Errorf("thresholds changed by bad input: %v → %v", before, after)
	}
	set := mustOK(t, g.admin("PUT", "/admin/enforcement", `{"warn_at":3,"suspend_for":"48h"}`))
	if set["warn_at"] != 3.0 || set["restrict_at"] != 4.0 || set["suspend_for"] != "48h0m0s" {
		t.Errorf("thresholds = %v", set)
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func TestQuotas(t *testing.T) {
	clk := &testClock{t: at("2026-11-26 12:00")}
	g := startGateway(t, "users: {quotas: {key_rpm: 3}}", withClock(clk.Now))
	id, key := g.addUser("quinn")
	send := func(k string) response { return g.post("/v1/chat/completions", k, chat("你好", false)) }
	for range 3 {
		mustOK(t, send(key))
	}
	r := send(key)
	apiError(t, r, 429, "rate_limit_exceeded")
	if r.header.Get("Retry-After") != "20" {
		t.Errorf("Retry-After = %q, want 20 (3 per minute)", r.header.Get("Retry-After"))
	}
	clk.Add(20 * time.Second)
	mustOK(t, send(key))

	// Another key of the same user has its own per-key rate.
	ik := mustOK2(t, g.admin("POST", "/admin/users/"+id+"/keys", ""))["api_key"].(string)
	mustOK(t, send(ik))

	// Tokens per day for the user, counted from the audit records.
	for body, code := range map[string]string{
		`{"requests_per_minute":0,"tokens_per_day":-1}`:  "invalid_value",
		`{"requests_per_minute":0}`:                      "missing_field",
		`{"requests_per_minute":"x","tokens_per_day":1}`: "invalid_type",
	} {
		apiError(t, g.admin("PUT", "/admin/users/"+id+"/quota", body), 400, code)
	}
	apiError(t, g.admin("PUT", "/admin/users/nobody/quota", `{"requests_per_minute":0,"tokens_per_day":1}`), 404, "not_found")
	apiError(t, g.admin("PUT", "/admin/keys/nokey/quota", `{"requests_per_minute":0,"tokens_per_day":1}`), 404, "not_found")
	used := int(g.duties(id)["quota"].(map[string]any)["tokens_today"].(float64))
	if used == 0 {
		t.Fatal("no tokens counted")
	}
	mustOK(t, g.admin("PUT", "/admin/users/"+id+"/quota", `{"requests_per_minute":0,"tokens_per_day":`+strconv.Itoa(used+1)+`}`))
	clk.Add(time.Minute)
	mustOK(t, send(key)) // under the limit before this request
	r = send(ik)
	apiError(t, r, 429, "tokens_per_day_exceeded")
	midnight := at("2026-11-27 00:00")
	if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra != int(midnight.Sub(clk.Now()).Seconds()) {
		t.Errorf("Retry-After = %q, want the seconds to local midnight", r.header.Get("Retry-After"))
	}

	// The day's count survives a restart (read back from the audit records).
	dir, adminKey := g.dataDir, g.adminKey
	if code := g.shutdown(); code != 0 {
		t.Fatalf("shutdown = %d", code)
	}
	g = startGateway(t, "users: {quotas: {key_rpm: 3}}", withClock(clk.Now), withDataDir(dir))
	g.adminKey = adminKey
	apiError(t, send(key), 429, "tokens_per_day_exceeded")
	clk.Set(midnight)
	mustOK(t, send(key))

	// A key's own quota.
	keyID := strings.SplitN(strings.TrimPrefix(key, "gg-"), ".", 2)[0]
	mustOK(t, g.admin("PUT", "/admin/keys/"+keyID+"/quota", `{"requests_per_minute":1,"tokens_per_day":0}`))
	clk.Add(time.Minute)
	mustOK(t, send(key))
	apiError(t, send(key), 429, "rate_limit_exceeded")
	mustOK(t, g.admin("DELETE", "/admin/keys/"+keyID+"/quota", ""))
	mustOK(t, send(key))
}

func mustOK2(t *testing.T, r response) map[string]any {
	t.Helper()
	if r.status/100 != 2 {
		t.Fatalf("status = %d: %s", r.status, r.body)
	}
	return r.json(t)
}
