<%@ Page Language="C#" MasterPageFile="~/Site.master" Title="Cisco TMS" %>
<%@ Register TagPrefix="tms" TagName="Feedback" Src="~/controls/Feedback.ascx" %>
<%@ Import Namespace="TmsStandIn" %>
<%-- The TMS front controller: /tms/default.aspx?pageId=N. The page body is a user control loaded with the
     id "ctl01" so that its controls are named ctl00$uxContent$ctl01$<Name> as on a real TMS. --%>
<script runat="server">
    protected override void OnInit(EventArgs e)
    {
        base.OnInit(e);
        int id;
        string q = Request.QueryString["pageId"];
        // Stand-in only: ?forward=1 answers 302 to the same page without it. Apache has authenticated the request
        // before a page runs, so this is a redirect right after a client's login handshake.
        if (Request.QueryString["forward"] == "1")
        {
            Response.Redirect(string.IsNullOrEmpty(q) ? "./default.aspx" : "./default.aspx?pageId=" + q);
            return;
        }
        if (string.IsNullOrEmpty(q)) id = TmsSite.StartPageId;
        else if (!int.TryParse(q, out id)) id = -1;

        PageInfo info = TmsSite.Find(id);
        string user = TmsSite.CurrentUser(Request);
        string control;
        if (info == null)
        {
            Response.StatusCode = 404;
            control = "~/controls/NotFound.ascx";
            Title = "Cisco TMS";
        }
        else
        {
            Title = "Cisco TMS: " + info.Title;
            control = info.Configuration && !TmsSite.IsSiteAdministrator(user)
                ? "~/controls/AccessDenied.ascx" : info.Control;
        }
        Control body = LoadControl(control);
        body.ID = "ctl01";
        uxPage.Controls.Add(body);
        Form.Action = "./default.aspx?pageId=" + (info != null ? info.Id : id);
        // The session module is on in TMS (ASP.NET_SessionId cookie); touch the session so the cookie is issued.
        Session["lastPageId"] = id;
    }

    protected override void OnPreRender(EventArgs e)
    {
        base.OnPreRender(e);
        // Mono never renders __VIEWSTATEGENERATOR; .NET does (a hash of the page's type), so register it.
        ClientScript.RegisterHiddenField("__VIEWSTATEGENERATOR", "CA0B0334");
    }
</script>
<asp:Content ContentPlaceHolderID="uxContent" runat="server">
    <tms:Feedback ID="uxFeedback" runat="server" />
    <asp:PlaceHolder ID="uxPage" runat="server" />
</asp:Content>
