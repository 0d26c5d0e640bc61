package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/genguard/genguard/internal/audit"
	"github.com/genguard/genguard/internal/openai"
)

// explicitLabelHeader is how a user asks for content without the explicit
// label ("omit"). The implicit label is never dropped.
const explicitLabelHeader = "Genguard-Explicit-Label"

// checkExplicitWaiver decides whether this request's content may go without
// its explicit label (labelling Measures Art. 9): only when the user asks,
// the operator allows it, and the user has accepted the current service
// agreement, which states their labelling duties. A request that asks but
// may not is refused before any content is generated, so nobody receives
// unlabelled content by surprise or labelled content they think is not.
func checkExplicitWaiver(d Deps, r *http.Request, o *outcome) error {
	v := strings.TrimSpace(r.Header.Get(explicitLabelHeader))
	if v == "" {
		return nil
	}
	if !strings.EqualFold(v, "omit") {
		return openai.InvalidRequest(explicitLabelHeader, "invalid_header", "the "+explicitLabelHeader+" header takes the value omit")
	}
	refuse := func(msg string) error {
		return &openai.Error{Status: http.StatusForbidden, Type: openai.TypePermission, Code: "explicit_label_required", Message: msg}
	}
	if !d.Labels.AllowUnlabeled || d.Duties == nil {
		return refuse("this service delivers generated content with its explicit AI label; delivery without it is not enabled (labelling Measures Art. 9)")
	}
	p := principalFrom(r.Context())
	cur, acc, ok, err := d.Duties.AgreementStatus(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	if cur.Version == "" || !ok {
		return refuse("content without the explicit AI label is only delivered after you accept the current service agreement, which sets out your labelling duties")
	}
	o.explicitOff, o.agreement = true, acc.Version
	return nil
}

// recordExplicitOmission logs one delivery without the explicit label; the
// audit trail keeps it at least six months (Art. 9).
func recordExplicitOmission(ctx context.Context, d Deps, o *outcome) {
	if d.Events == nil {
		d.Logger.ErrorContext(ctx, "label omission not recorded: no event log", "id", o.rec.ID)
		return
	}
	err := d.Events.Event(ctx, audit.Event{
		Kind: "label.explicit_omitted", Actor: "user:" + o.rec.KeyID, Subject: o.rec.UserPseudonym,
		Details:  map[string]string{"request": o.rec.ID, "endpoint": o.rec.Endpoint, "agreement": o.agreement},
		Evidence: []string{o.rec.ID},
	})
	if err != nil {
		d.Logger.ErrorContext(ctx, "label omission not recorded", "id", o.rec.ID, "err", err)
	}
}
