package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/genguard/genguard/internal/app"
	"github.com/genguard/genguard/internal/store/sqlite"
)

// issue6Config switches text storage on (with a test key) so the deletion
// test covers stored text too.
func issue6Config(rateLimit int) string {
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	return fmt.Sprintf("complaints: {rate_limit: %d, max_attachment_bytes: 4096}\n", rateLimit) +
		"privacy: {store_text: true, text_key_id: k1, text_keys: {k1: \"" + key + "\"}, purge_interval: 1s}\n"
}

// pngBytes is a tiny PNG (the sniffer needs only the signature).
var complaintPNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"

// formClient is a cookie-keeping client for the web form.
type formClient struct {
	t   *testing.T
	c   *http.Client
	url string
}

func newFormClient(t *testing.T, url string) *formClient {
	jar, _ := cookiejar.New(nil)
	return &formClient{t: t, c: &http.Client{Jar: jar}, url: url}
}

var complaintCSRFRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *formClient) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.url + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *formClient) csrf() string {
	b.t.Helper()
	_, page := b.get("/complaints/new")
	m := complaintCSRFRE.FindStringSubmatch(page)
	if m == nil {
		b.t.Fatalf("no csrf token in the form: %s", page)
	}
	return m[1]
}

// submit posts the form as multipart; fields with key "attachment" are
// sent as a file named evidence.png.
func (b *formClient) submit(fields map[string]string) (int, string) {
	b.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if k == "attachment" {
			fw, _ := mw.CreateFormFile("attachment", "evidence.png")
			fw.Write([]byte(v))
			continue
		}
		mw.WriteField(k, v)
	}
	mw.Close()
	resp, err := b.c.Post(b.url+"/complaints/new", mw.FormDataContentType(), &buf)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var complaintLinkRE = regexp.MustCompile(`href="(/complaints/(GC[0-9]{8}-[A-Z2-9]+)\?t=([A-Za-z0-9_-]+))"`)

func TestComplaintWebForm(t *testing.T) {
	g := startGateway(t, issue6Config(8))
	b := newFormClient(t, g.url)

	code, page := b.get("/complaints/new")
	if code != 200 || !strings.Contains(page, "missing_ai_label") || !strings.Contains(page, "个工作日") {
		t.Fatalf("form page %d lacks categories or deadlines: %s", code, page)
	}
	if code, page := b.get("/complaints/process"); code != 200 || !strings.Contains(page, "7 个工作日") {
		t.Fatalf("process page %d: %s", code, page)
	}

	hostile := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	code, page = b.submit(map[string]string{"csrf": b.csrf(), "category": "illegal_content", "description": hostile,
		"contact": `"><script>1</script>`, "attachment": complaintPNG})
	m := complaintLinkRE.FindStringSubmatch(page)
	if code != http.StatusCreated || m == nil {
		t.Fatalf("submit = %d, no status link: %s", code, page)
	}
	link, ticket, token := m[1], m[2], m[3]
	code, page = b.get(link)
	if code != 200 || !strings.Contains(page, ticket) || !strings.Contains(page, "received") {
		t.Fatalf("status page %d: %s", code, page)
	}
	// The complaint text is shown nowhere unescaped.
	for _, p := range []string{page} {
		if strings.Contains(p, "<script>") || strings.Contains(p, "<img src=x") {
			t.Fatalf("hostile input rendered unescaped: %s", p)
		}
	}
	// Wrong token or unknown ticket: the same 404.
	if code, _ := b.get("/complaints/" + ticket + "?t=" + strings.Repeat("A", len(token))); code != 404 {
		t.Errorf("wrong token = %d, want 404", code)
	}
	if code, _ := b.get("/complaints/GC20260101-AAAAAAAA?t=" + token); code != 404 {
		t.Errorf("unknown ticket = %d, want 404", code)
	}
	// The admin sees the attachment with its sniffed type, as a download.
	r := g.do("GET", "/admin/complaints/"+ticket+"/attachment", g.adminKey, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment") {
		t.Errorf("attachment = %d %v", r.status, r.header)
	}

	for name, tc := range map[string]struct {
		fields map[string]string
		want   int
	}{
		"no csrf":           {map[string]string{"category": "other", "description": "x"}, 403},
		"forged csrf":       {map[string]string{"csrf": "AAAAAAAAAAA.BBBB", "category": "other", "description": "x"}, 403},
		"bad category":      {map[string]string{"csrf": b.csrf(), "category": "nope", "description": "x"}, 400},
		"empty description": {map[string]string{"csrf": b.csrf(), "category": "other", "description": "  "}, 400},
		"html as png":       {map[string]string{"csrf": b.csrf(), "category": "other", "description": "x", "attachment": "<html><script>alert(1)</script></html>"}, 400},
		"oversized file":    {map[string]string{"csrf": b.csrf(), "category": "other", "description": "x", "attachment": complaintPNG + strings.Repeat("A", 5000)}, 400},
		"appeal without id": {map[string]string{"csrf": b.csrf(), "category": "appeal", "description": "x"}, 400},
	} {
		code, page := b.submit(tc.fields)
		if code != tc.want {
			t.Errorf("%s: status %d, want %d: %.300s", name, code, tc.want, page)
		}
	}
	// A body past the limit is refused without being read whole.
	big := strings.Repeat("x", 8<<20)
	resp, err := b.c.Post(g.url+"/complaints/new", "application/x-www-form-urlencoded", strings.NewReader("description="+big))
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != 413 && resp.StatusCode != 429 {
			t.Errorf("8 MB form = %d, want 413", resp.StatusCode)
		}
	}
	// Rate limit: 8 per window per IP; we have used 10 posts.
	code, _ = b.submit(map[string]string{"csrf": b.csrf(), "category": "other", "description": "again"})
	if code != http.StatusTooManyRequests {
		t.Errorf("post over the rate limit = %d, want 429", code)
	}
}

func TestComplaintAPIAndAdmin(t *testing.T) {
	g := startGateway(t, issue6Config(100))
	key := g.newUser("complaint-api-user")
	chat := g.post("/v1/chat/completions", key, `{"model":"demo","messages":[{"role":"user","content":"你好"}]}`)
	reqID := chat.header.Get("X-Request-Id")
	if chat.status != 200 || reqID == "" {
		t.Fatalf("chat = %d", chat.status)
	}
	g.waitAudit(1)

	for name, tc := range map[string]struct {
		body string
		want int
	}{
		"malformed":       {`{"category":`, 400},
		"unknown field":   {`{"category":"other","description":"x","admin":true}`, 400},
		"two objects":     {`{"category":"other","description":"x"}{}`, 400},
		"wrong type":      {`{"category":1,"description":"x"}`, 400},
		"unknown request": {`{"category":"illegal_content","description":"x","request_id":"req_000000000000000000000000"}`, 400},
		"bad request id":  {`{"category":"illegal_content","description":"x","request_id":"a b"}`, 400},
		"control chars":   {`{"category":"other","description":"a\u0000b"}`, 400},
		"long":            {`{"category":"other","description":"` + strings.Repeat("长", 5001) + `"}`, 400},
		"bad attachment":  {`{"category":"other","description":"x","attachment":{"name":"a.png","data":"not base64!"}}`, 400},
	} {
		if r := g.post("/v1/complaints", "", tc.body); r.status != tc.want {
			t.Errorf("%s: %d, want %d: %s", name, r.status, tc.want, r.body)
		}
	}
	if r := g.post("/v1/complaints", "gg-bad.key", `{"category":"other","description":"x"}`); r.status != 401 {
		t.Errorf("bad key = %d, want 401", r.status)
	}
	if r := g.post("/v1/complaints", "", `{"category":"other","description":"`+strings.Repeat("x", 8<<20)+`"}`); r.status != 413 {
		t.Errorf("8 MB JSON = %d, want 413", r.status)
	}

	r := g.post("/v1/complaints", key, fmt.Sprintf(`{"category":"missing_ai_label","description":"这段回复没有AI标识","request_id":%q,"attachment":{"name":"shot.png","data":%q}}`,
		reqID, base64.StdEncoding.EncodeToString([]byte(complaintPNG))))
	if r.status != 201 {
		t.Fatalf("file = %d: %s", r.status, r.body)
	}
	filed := r.json(t)
	ticket, token := filed["ticket"].(string), filed["token"].(string)
	if st := g.do("GET", "/v1/complaints/"+ticket+"?token="+token, "", nil); st.status != 200 || st.json(t)["status"] != "received" {
		t.Fatalf("status = %d %s", st.status, st.body)
	}
	if st := g.do("GET", "/v1/complaints/"+ticket+"?token=x", "", nil); st.status != 404 {
		t.Errorf("status with a wrong token = %d", st.status)
	}
	if p := g.do("GET", "/v1/complaints/process", "", nil); p.status != 200 || !strings.Contains(string(p.body), `"deadline_working_days":7`) {
		t.Errorf("process = %d %s", p.status, p.body)
	}

	admin := func(path, body string, want int) map[string]any {
		t.Helper()
		r := g.post(path, g.adminKey, body)
		if r.status != want {
			t.Fatalf("POST %s = %d, want %d: %s", path, r.status, want, r.body)
		}
		return r.json(t)
	}
	admin("/admin/complaints/"+ticket+"/transition", `{"to":"resolved","reason":""}`, 400)
	admin("/admin/complaints/"+ticket+"/transition", `{"to":"nowhere","reason":"x"}`, 400)
	admin("/admin/complaints/"+ticket+"/assign", `{"assignee":"reviewer-1"}`, 200)
	admin("/admin/complaints/"+ticket+"/notes", `{"text":"internal: checked the label header"}`, 200)
	admin("/admin/complaints/"+ticket+"/transition", `{"to":"in_review","reason":"核实中 checking"}`, 200)
	admin("/admin/complaints/"+ticket+"/transition", `{"to":"resolved","reason":"label missing"}`, 400) // closing needs feedback
	admin("/admin/complaints/"+ticket+"/transition", `{"to":"resolved","reason":"x","feedback":"y","action":{"type":"explode"}}`, 400)
	if r := g.post("/admin/complaints/"+ticket+"/transition", key, `{}`); r.status != 403 {
		t.Errorf("user key on admin route = %d", r.status)
	}
	// Resolve with a takedown of the stored text, then a sanction through
	// the enforcement ladder's own path.
	res := admin("/admin/complaints/"+ticket+"/transition", `{"to":"resolved","reason":"label missing","feedback":"已删除该内容。We removed it.","action":{"type":"takedown"}}`, 200)
	if !strings.HasPrefix(res["Action"].(string), "takedown "+reqID) {
		t.Errorf("action = %v", res["Action"])
	}
	admin("/admin/complaints/"+ticket+"/transition", `{"to":"rejected","reason":"x","feedback":"y"}`, 400)
	st := g.do("GET", "/v1/complaints/"+ticket+"?token="+token, "", nil).json(t)
	if st["status"] != "resolved" || st["feedback"] != "已删除该内容。We removed it." || strings.Contains(fmt.Sprint(st["history"]), "internal:") {
		t.Errorf("status after resolve = %v", st)
	}

	r = g.post("/v1/complaints", "", `{"category":"illegal_activity","description":"this user spams"}`)
	t2 := r.json(t)["ticket"].(string)
	users := g.do("GET", "/admin/users", g.adminKey, nil).json(t)["data"].([]any)
	uid := users[0].(map[string]any)["id"].(string)
	res = admin("/admin/complaints/"+t2+"/transition", fmt.Sprintf(`{"to":"resolved","reason":"confirmed","feedback":"已处置。","action":{"type":"sanction","user_id":%q,"sanction":"warn"}}`, uid), 200)
	if !strings.HasPrefix(fmt.Sprint(res["Action"]), "warn sanction_") {
		t.Errorf("sanction action = %v", res["Action"])
	}

	// Appeal: the sanctioned user's refusal names the case; an appeal must
	// quote a case on record; resolving it lifts the sanction.
	until := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	sn := g.post("/admin/users/"+uid+"/sanctions", g.adminKey, `{"action":"suspend","until":"`+until+`","reason":"spam"}`)
	if sn.status/100 != 2 {
		t.Fatalf("suspend = %d %s", sn.status, sn.body)
	}
	refused := g.post("/v1/chat/completions", key, `{"model":"demo","messages":[{"role":"user","content":"你好"}]}`)
	caseID := regexp.MustCompile(`sanction_\d+`).FindString(string(refused.body))
	if refused.status != 403 || caseID == "" {
		t.Fatalf("suspended user's refusal = %d %s, want a case number", refused.status, refused.body)
	}
	for _, bad := range []string{"sanction_999999", "req_nothing", "x"} {
		if r := g.post("/v1/complaints", key, fmt.Sprintf(`{"category":"appeal","description":"please","enforcement_id":%q}`, bad)); r.status != 400 {
			t.Errorf("appeal naming %s = %d %s", bad, r.status, r.body)
		}
	}
	r = g.post("/v1/complaints", key, fmt.Sprintf(`{"category":"appeal","description":"I did not spam","enforcement_id":%q}`, caseID))
	if r.status != 201 && r.status != 200 {
		t.Fatalf("appeal = %d %s", r.status, r.body)
	}
	t3 := r.json(t)["ticket"].(string)
	admin("/admin/complaints/"+t3+"/transition", fmt.Sprintf(`{"to":"resolved","reason":"appeal upheld","feedback":"已解除。","action":{"type":"lift","user_id":%q}}`, uid), 200)
	if r := g.post("/v1/chat/completions", key, `{"model":"demo","messages":[{"role":"user","content":"你好"}]}`); r.status != 200 {
		t.Errorf("after the upheld appeal = %d %s", r.status, r.body)
	}

	// Overdue: nothing yet; the list and the metric agree.
	if l := g.do("GET", "/admin/complaints?overdue=true", g.adminKey, nil).json(t); len(l["data"].([]any)) != 0 {
		t.Errorf("overdue = %v", l)
	}
	if l := g.do("GET", "/admin/complaints?limit=0", g.adminKey, nil); l.status != 400 {
		t.Errorf("limit=0 = %d", l.status)
	}
	metrics := string(g.do("GET", "/metrics", "", nil).body)
	if !strings.Contains(metrics, "genguard_complaints_overdue 0") || !strings.Contains(metrics, "genguard_pi_requests_overdue 0") {
		t.Errorf("metrics lack the overdue gauges")
	}
}

// TestErasureLeavesNothing is the deletion test of issue 6: a user uses
// every feature that stores something, asks for deletion, an operator
// approves, and then every column of every table in sqlite_master (tables
// added by later migrations included) and every file in the data directory
// is searched for the user's id, name and key ids.
func TestErasureLeavesNothing(t *testing.T) {
	g := startGateway(t, issue6Config(100))
	const name = "Erasure-Subject-Q7x"
	key := g.newUser(name)
	key2 := g.post("/admin/users", g.adminKey, `{"name":"bystander-user"}`) // another user's data must survive
	_ = key2
	for i := range 3 {
		r := g.post("/v1/chat/completions", key, fmt.Sprintf(`{"model":"demo","messages":[{"role":"user","content":"第%d次：我是%s，手机13912345678"}]}`, i, name))
		if r.status != 200 {
			t.Fatalf("chat = %d %s", r.status, r.body)
		}
	}
	// A complaint with an attachment, and PI requests.
	if r := g.post("/v1/complaints", key, fmt.Sprintf(`{"category":"personal_information","description":"I am %s","contact":"%s@example.com","attachment":{"name":"%s.txt","data":%q}}`,
		name, name, name, base64.StdEncoding.EncodeToString([]byte("written by "+name)))); r.status != 201 {
		t.Fatalf("complaint = %d %s", r.status, r.body)
	}
	if r := g.post("/v1/privacy/requests", key, `{"type":"correct","detail":"my name is `+name+`"}`); r.status != 201 {
		t.Fatalf("correct request = %d %s", r.status, r.body)
	}
	if r := g.post("/v1/privacy/requests", key, `{"type":"bogus"}`); r.status != 400 {
		t.Errorf("bogus PI request = %d", r.status)
	}
	// The export holds every table that names the user, and the stored
	// texts, decrypted and redacted.
	var ex map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := g.do("GET", "/v1/privacy/export", key, nil)
		if r.status != 200 {
			t.Fatalf("export = %d %s", r.status, r.body)
		}
		ex = r.json(t)
		if texts, _ := ex["stored_texts"].([]any); len(texts) >= 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	tables := ex["tables"].(map[string]any)
	for _, tb := range []string{"users", "api_keys", "complaints", "pi_requests", "stored_texts", "audit_records"} {
		if tables[tb] == nil {
			t.Errorf("export lacks table %s: %v", tb, keys(tables))
		}
	}
	texts := fmt.Sprint(ex["stored_texts"])
	if !strings.Contains(texts, "[手机号]") || strings.Contains(texts, "13912345678") {
		t.Errorf("stored texts not redacted: %s", texts)
	}
	userID := tables["users"].([]any)[0].(map[string]any)["id"].(string)
	var keyIDs []string
	for _, k := range tables["api_keys"].([]any) {
		keyIDs = append(keyIDs, k.(map[string]any)["id"].(string))
	}

	// An operator action naming the user in its path is audited too; the
	// append-only log must hold only the pseudonym.
	if r := g.post("/admin/users/"+userID+"/sanctions", g.adminKey, `{"action":"warn","reason":"test"}`); r.status/100 != 2 {
		t.Fatalf("warn = %d %s", r.status, r.body)
	}
	del := g.post("/v1/privacy/requests", key, `{"type":"delete"}`)
	if del.status != 201 {
		t.Fatalf("delete request = %d %s", del.status, del.body)
	}
	delID := del.json(t)["ID"].(string)
	if r := g.post("/admin/privacy/requests/"+delID+"/close", g.adminKey, `{"status":"resolved"}`); r.status != 400 {
		t.Errorf("close without reason = %d", r.status)
	}
	if r := g.post("/admin/privacy/requests/"+delID+"/close", g.adminKey, `{"status":"resolved","reason":"PIPL Art. 47","feedback":"已删除。Deleted."}`); r.status != 200 {
		t.Fatalf("close delete = %d %s", r.status, r.body)
	}
	if r := g.do("GET", "/v1/privacy/export", key, nil); r.status != 401 {
		t.Errorf("erased user's key still works: %d", r.status)
	}
	if l := g.do("GET", "/admin/privacy/requests", g.adminKey, nil).json(t); len(l["data"].([]any)) != 2 {
		t.Errorf("PI requests after erasure = %v", l)
	}
	if code := g.shutdown(); code != 0 {
		t.Fatalf("shutdown = %d", code)
	}

	db, err := sqlite.Open(context.Background(), filepath.Join(g.dataDir, app.DBFile))
	if err != nil {
		t.Fatal(err)
	}
	needles := append([]string{userID, name}, keyIDs...)
	res, err := db.FindResidue(context.Background(), needles)
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, r := range res {
		// The hash-chained audit log is append-only and kept ≥ 6 months
		// (CSL Art. 21): its rows keep the random key id, which names no one
		// once the key row is gone; the user appears there only by pseudonym.
		if r.Table == "audit_records" && r.Column == "key_id" {
			kept++
			continue
		}
		t.Errorf("%q still in %s.%s (%d rows)", r.Needle, r.Table, r.Column, r.Rows)
	}
	if kept == 0 {
		t.Errorf("the audit records of the erased user's requests are gone; the law requires keeping them")
	}
	if bys, err := db.FindResidue(context.Background(), []string{"bystander-user"}); err != nil || len(bys) == 0 {
		t.Errorf("the other user's data was erased too: %v %v", bys, err)
	}
	db.Close()
	// Every file of the data directory: the database, its WAL, generated
	// files, keys.
	filepath.WalkDir(g.dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{userID, name} {
			if bytes.Contains(b, []byte(n)) {
				t.Errorf("file %s still contains %q", path, n)
			}
		}
		return nil
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
