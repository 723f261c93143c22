package resolvers

import (
	"strings"

	"github.com/google/uuid"

	"configmarket/dataloaders"
	"configmarket/graph/model"
	"configmarket/internal/account"
	"configmarket/internal/apperr"
	"configmarket/internal/catalog"
	"configmarket/internal/identity"
	"configmarket/internal/money"
	"configmarket/internal/relay"
)

// Global id type names; they are part of the API contract.
const (
	typeTariffPlan = "TariffPlan"
	typeDeveloper  = "Developer"
	typeCustomer   = "Customer"
	typePartner    = "Partner"
	typeUser       = "User"
)

func globalID(typeName string, id uuid.UUID) string { return relay.UUIDID(typeName, id) }

func toMoney(m money.Money) *model.Money { return moneyIn(new(model.Money), m) }

// moneyIn maps m into dst, for callers that allocate many at once.
func moneyIn(dst *model.Money, m money.Money) *model.Money {
	*dst = model.Money{Amount: model.Decimal(m.Amount()), CurrencyCode: m.Currency}
	return dst
}

func toTariffPlan(p *catalog.TariffPlan) *model.TariffPlan {
	if p == nil {
		return nil
	}
	return &model.TariffPlan{
		ID: globalID(typeTariffPlan, p.ID), Code: p.Code, Name: p.Name, MaxUsers: p.MaxUsers,
		MonthlyPrice: toMoney(p.MonthlyPrice), IsDefault: p.IsDefault,
	}
}

// tariffPlanOnce maps a plan of l.TariffPlan once per operation: every card
// of a page prices the same four plans. The loaders read the plans once
// per operation, so a plan's pointer names it (and, unlike its id, keys
// the map without an allocation).
func tariffPlanOnce(l *dataloaders.Loaders, p *catalog.TariffPlan) *model.TariffPlan {
	if p == nil {
		return nil
	}
	return l.Mapped(p, func() any { return toTariffPlan(p) }).(*model.TariffPlan)
}

func toDeveloper(d *catalog.Developer) *model.Developer {
	if d == nil {
		return nil
	}
	return &model.Developer{
		ID: model.NodeID{Type: typeDeveloper, UUID: d.ID}, Slug: d.Slug, Name: d.Name, Bio: d.Bio, Website: d.Website,
		Status: toEnum[model.DeveloperStatus](d.Status), CreatedAt: d.CreatedAt, RowID: d.ID,
	}
}

func toCustomer(c *account.Customer) *model.Customer {
	if c == nil {
		return nil
	}
	return &model.Customer{
		ID: globalID(typeCustomer, c.ID), Name: c.Name, Inn: c.INN, CrmAccountID: c.CRMAccountID,
		CreatedAt: c.CreatedAt, TariffPlanID: c.TariffPlanID, RowID: c.ID,
	}
}

func toPartner(p *account.Partner) *model.Partner {
	if p == nil {
		return nil
	}
	return &model.Partner{
		ID: globalID(typePartner, p.ID), Name: p.Name, Inn: p.INN, Website: p.Website,
		Status: toEnum[model.PartnerStatus](p.Status), CreatedAt: p.CreatedAt, RowID: p.ID,
	}
}

func toUser(u *account.User) *model.User {
	if u == nil {
		return nil
	}
	return &model.User{ID: globalID(typeUser, u.ID), Email: u.Email, Name: u.Name, Phone: u.Phone, CreatedAt: u.CreatedAt}
}

func toRole(r identity.Role) model.Role { return toEnum[model.Role](r) }

func fromRole(r model.Role) identity.Role { return fromEnum[identity.Role](r) }

func toAuthSession(s account.Session) *model.AuthSession {
	return &model.AuthSession{
		AccessToken: s.AccessToken, AccessTokenExpiresAt: s.AccessExpiresAt,
		RefreshToken: s.RefreshToken, RefreshTokenExpiresAt: s.RefreshExpiresAt,
		Role: toRole(s.Viewer.Role),
	}
}

// logInInput translates logIn's input; actingFor may name an organisation
// of any type.
func logInInput(input model.LogInInput) (account.LogInInput, error) {
	in := account.LogInInput{Email: input.Email, Password: input.Password}
	if input.Role != nil {
		in.Role = fromRole(*input.Role)
	}
	if input.ActingFor != nil {
		_, local, err := relay.ParseID(*input.ActingFor)
		if in.ActingFor, err = uuidOf(local, err); err != nil {
			return in, apperr.Wrap(apperr.KindInvalid, "input.actingFor", err)
		}
	}
	return in, nil
}

// orgTypeOf is the GraphQL type of the organisation a role acts for.
func orgTypeOf(r identity.Role) string {
	switch r {
	case identity.RoleCustomer:
		return typeCustomer
	case identity.RoleDeveloper:
		return typeDeveloper
	case identity.RolePartner:
		return typePartner
	}
	return ""
}

func toRoleGrants(grants []account.RoleGrant) []*model.RoleGrant {
	out := make([]*model.RoleGrant, len(grants))
	for i, g := range grants {
		out[i] = &model.RoleGrant{Role: toRole(identity.Role(g.Role)), OrganizationName: g.OrgName}
		if g.ActingFor != nil {
			out[i].ActingForID = *g.ActingFor
		}
	}
	return out
}

// enumNames are the GraphQL enum values by their database spelling (the
// same words in lower case).
var enumNames = func() map[string]string {
	m := map[string]string{}
	addNames(m, model.AllConfigurationState)
	addNames(m, model.AllDeveloperStatus)
	addNames(m, model.AllInstallationMode)
	addNames(m, model.AllInstallationState)
	addNames(m, model.AllInvoiceState)
	addNames(m, model.AllLedgerParty)
	addNames(m, model.AllPaidFor)
	addNames(m, model.AllPartnerStatus)
	addNames(m, model.AllPayoutMethod)
	addNames(m, model.AllPayoutState)
	addNames(m, model.AllPinState)
	addNames(m, model.AllRole)
	addNames(m, model.AllSaleMode)
	addNames(m, model.AllSupportMode)
	addNames(m, model.AllVersionState)
	addNames(m, model.AllVisibility)
	return m
}()

func addNames[T ~string](m map[string]string, values []T) {
	for _, v := range values {
		m[strings.ToLower(string(v))] = string(v)
	}
}

// toEnum is the GraphQL enum value G of a database vocabulary value:
// toEnum[model.InstallationState](i.State).
func toEnum[G, D ~string](d D) G { return G(enumName(string(d))) }

// fromEnum is the database vocabulary value D of a GraphQL enum value:
// fromEnum[commerce.InstallationState](model.InstallationStateActive).
func fromEnum[D, G ~string](g G) D { return D(strings.ToLower(string(g))) }

// fromEnumPtr is fromEnum of an optional argument; nil stays nil.
func fromEnumPtr[D, G ~string](g *G) *D {
	if g == nil {
		return nil
	}
	d := fromEnum[D](*g)
	return &d
}

// enumName is the GraphQL enum value of a database value: strings.ToUpper,
// without a new copy of the same few words for every row of a page.
func enumName(s string) string {
	if name, ok := enumNames[s]; ok {
		return name
	}
	return strings.ToUpper(s)
}
