<%@ Control Language="C#" %>
<%@ Import Namespace="System.Collections.Generic" %>
<%@ Import Namespace="System.IO" %>
<%@ Import Namespace="System.Linq" %>
<%@ Import Namespace="System.Security.Cryptography" %>
<%@ Import Namespace="System.Security.Cryptography.X509Certificates" %>
<%@ Import Namespace="System.Web.Script.Serialization" %>
<%@ Import Namespace="TmsStandIn" %>
<%-- Administrative Tools > Configuration > WebEx Settings, laid out as docs/tms-page-model.md says. --%>
<script runat="server">
    IFeedback Feedback { get { return (IFeedback)NamingContainer.FindControl("uxFeedback"); } }

    // The site whose form is open: 0 = none, -1 = a new site ("Add Site"), else its id.
    int OpenSiteId
    {
        get { object v = ViewState["SiteId"]; return v == null ? 0 : (int)v; }
        set { ViewState["SiteId"] = value; }
    }

    protected void Page_Load(object sender, EventArgs e)
    {
        if (!IsPostBack)
        {
            WebExSettings s = Store.Load();
            enableWebEx.SelectedValue = s.EnableWebEx ? "true" : "false";
            addWebExToAll.SelectedValue = s.AddWebExToAll ? "true" : "false";
            BindGrid(s);
        }
    }

    void BindGrid(WebExSettings s)
    {
        siteGrid.DataSource = s.Sites;
        siteGrid.DataBind();
    }

    static string YesNo(bool b) { return b ? "true" : "false"; }

    static bool Posted(RadioButtonList list, bool current)
    {
        return list.SelectedValue == "" ? current : list.SelectedValue == "true";
    }

    protected void SaveGlobal(object sender, EventArgs e)
    {
        WebExSettings s = Store.Update(st =>
        {
            st.EnableWebEx = Posted(enableWebEx, st.EnableWebEx);
            st.AddWebExToAll = Posted(addWebExToAll, st.AddWebExToAll);
            st.GlobalSaves++;
        });
        BindGrid(s);
        Feedback.Info("Settings saved.");
    }

    protected void SiteGridCommand(object sender, GridViewCommandEventArgs e)
    {
        if (e.CommandName != "EditSite") return;
        int id = int.Parse((string)e.CommandArgument);
        OpenSite(id);
    }

    protected void AddSite(object sender, EventArgs e)
    {
        OpenSite(-1);
    }

    protected void CancelSite(object sender, EventArgs e)
    {
        OpenSiteId = 0;
        sitePanel.Visible = false;
    }

    void OpenSite(int id)
    {
        WebExSite site = id > 0 ? Store.Load().Sites.FirstOrDefault(x => x.Id == id) : null;
        if (id > 0 && site == null)
        {
            Feedback.Error("The WebEx site no longer exists.");
            return;
        }
        if (site == null)
            site = new WebExSite { HostName = "", SiteName = "", Bandwidth = "Medium", UseGlobal = true,
                                   SsoPartnerName = "", SsoAccountName = "", SsoAuthnContext = "" };
        OpenSiteId = id;
        hostName.Text = site.HostName;
        siteName.Text = site.SiteName;
        bandwidth.SelectedValue = site.Bandwidth;
        defaultSite.SelectedValue = YesNo(site.DefaultSite);
        useGlobal.SelectedValue = YesNo(site.UseGlobal);
        tspAudio.SelectedValue = YesNo(site.TspAudio);
        useSso.SelectedValue = YesNo(site.UseSso);
        ssoPartnerName.Text = site.SsoPartnerName;
        ssoAccountName.Text = site.SsoAccountName;
        ssoAuthnContext.Text = site.SsoAuthnContext;
        sitePanel.Visible = true;
    }

    static string Sha256Hex(byte[] data)
    {
        using (var h = SHA256.Create())
            return BitConverter.ToString(h.ComputeHash(data)).Replace("-", "");
    }

    // Failed imports go to their own log (no secrets) so webex.json stays exactly as it was.
    void LogImportFailure(byte[] bytes, Exception ex, string reason)
    {
        var entry = new Dictionary<string, object>
        {
            { "time", Store.Now() },
            { "user", TmsSite.CurrentUser(Request) },
            { "site_id", OpenSiteId },
            { "file_name", ssoCertificate.FileName },
            { "file_bytes", bytes.Length },
            { "file_sha256", Sha256Hex(bytes) },
            { "reason", reason },
            { "exception_type", ex == null ? null : ex.GetType().FullName },
            { "message", ex == null ? reason : ex.Message },
            { "inner_exception_type", ex == null || ex.InnerException == null ? null : ex.InnerException.GetType().FullName },
            { "inner_message", ex == null || ex.InnerException == null ? null : ex.InnerException.Message },
        };
        Directory.CreateDirectory(Store.DataDir);
        File.AppendAllText(Path.Combine(Store.DataDir, "import-failures.jsonl"),
                           new JavaScriptSerializer().Serialize(entry) + "\n");
    }

    protected void SaveSite(object sender, EventArgs e)
    {
        string host = hostName.Text.Trim();
        string name = siteName.Text.Trim();
        if (host.Length == 0) { Feedback.Error("Host Name is required."); return; }
        if (name.Length == 0) { Feedback.Error("Site Name is required."); return; }

        CertificateInfo cert = null;
        if (ssoCertificate.HasFile)
        {
            byte[] bytes = ssoCertificate.FileBytes;
            string password = ssoCertificatePassword.Text;
            if (string.IsNullOrEmpty(password))
            {
                LogImportFailure(bytes, null, "Certificate Password is required to import the certificate.");
                Feedback.Error("Certificate Password is required to import the certificate.");
                return;
            }
            X509Certificate2 x;
            try
            {
                x = new X509Certificate2(bytes, password, X509KeyStorageFlags.Exportable);
            }
            catch (Exception ex)
            {
                LogImportFailure(bytes, ex, "exception");
                Feedback.Error(ex.Message);
                return;
            }
            if (!x.HasPrivateKey)
            {
                LogImportFailure(bytes, null, "The certificate file does not contain a private key.");
                Feedback.Error("The certificate file does not contain a private key.");
                return;
            }
            cert = new CertificateInfo
            {
                Subject = x.Subject,
                Issuer = x.Issuer,
                SerialNumber = x.SerialNumber,
                NotBefore = Store.FormatTime(x.NotBefore),
                NotAfter = Store.FormatTime(x.NotAfter),
                Thumbprint = x.Thumbprint.ToUpperInvariant(),
                HasPrivateKey = x.HasPrivateKey,
                PfxSha256 = Sha256Hex(bytes),
                PfxBytes = bytes.Length,
                UploadedAt = Store.Now(),
                UploadedBy = TmsSite.CurrentUser(Request),
            };
        }

        string user = TmsSite.CurrentUser(Request);
        int openId = OpenSiteId;
        int savedId = openId;
        WebExSettings saved = Store.Update(st =>
        {
            WebExSite site = openId > 0 ? st.Sites.FirstOrDefault(x => x.Id == openId) : null;
            if (site == null)
            {
                site = new WebExSite { Id = st.NextSiteId++ };
                st.Sites.Add(site);
            }
            savedId = site.Id;
            site.HostName = host;
            site.SiteName = name;
            site.Bandwidth = bandwidth.SelectedValue;
            site.DefaultSite = Posted(defaultSite, site.DefaultSite);
            site.UseGlobal = Posted(useGlobal, site.UseGlobal);
            site.TspAudio = Posted(tspAudio, site.TspAudio);
            site.UseSso = Posted(useSso, site.UseSso);
            site.SsoPartnerName = ssoPartnerName.Text;
            site.SsoAccountName = ssoAccountName.Text;
            site.SsoAuthnContext = ssoAuthnContext.Text;
            if (cert != null)
            {
                site.Certificate = cert;
                site.CertificateUploads++;
            }
            site.Saves++;
            site.LastSavedAt = Store.Now();
            site.LastSavedBy = user;
            if (site.DefaultSite)
                foreach (WebExSite other in st.Sites)
                    if (other != site) other.DefaultSite = false;
        });
        OpenSiteId = savedId;
        BindGrid(saved);
        Feedback.Info("Settings saved.");
    }

    static string Row(string name, string value)
    {
        return "<tr><td class=\"PropertyName\">" + HttpUtility.HtmlEncode(name) + "</td><td class=\"PropertyValue\">"
               + HttpUtility.HtmlEncode(value) + "</td></tr>";
    }

    protected override void OnPreRender(EventArgs e)
    {
        base.OnPreRender(e);
        if (!sitePanel.Visible) return;
        Page.Form.Enctype = "multipart/form-data";
        WebExSite site = OpenSiteId > 0 ? Store.Load().Sites.FirstOrDefault(x => x.Id == OpenSiteId) : null;
        CertificateInfo c = site == null ? null : site.Certificate;
        if (c != null && TmsSite.ShowCertificateDetails)
            certificateRows.Text = Row("Certificate Subject", c.Subject) + Row("Certificate Expires", c.NotAfter)
                                   + Row("Certificate Thumbprint", c.Thumbprint);
        else
            certificateRows.Text = Row("Certificate Installed", c != null ? "Yes" : "No");
    }
</script>

<h2>WebEx Configuration</h2>
<table class="PropertyTable">
    <tr><td class="PropertyName">Enable WebEx</td><td class="PropertyValue"><asp:RadioButtonList ID="enableWebEx" runat="server" RepeatLayout="Flow" RepeatDirection="Horizontal"><asp:ListItem Value="true">Yes</asp:ListItem><asp:ListItem Value="false">No</asp:ListItem></asp:RadioButtonList></td></tr>
    <tr><td class="PropertyName">Add WebEx to All Conferences</td><td class="PropertyValue"><asp:RadioButtonList ID="addWebExToAll" runat="server" RepeatLayout="Flow" RepeatDirection="Horizontal"><asp:ListItem Value="true">Yes</asp:ListItem><asp:ListItem Value="false">No</asp:ListItem></asp:RadioButtonList></td></tr>
</table>
<asp:Button ID="saveGlobalButton" runat="server" Text="Save" OnClick="SaveGlobal" />

<h2>WebEx Sites</h2>
<asp:GridView ID="siteGrid" runat="server" AutoGenerateColumns="false" OnRowCommand="SiteGridCommand" CssClass="Grid">
    <Columns>
        <asp:BoundField HeaderText="Host Name" DataField="HostName" />
        <asp:BoundField HeaderText="Site Name" DataField="SiteName" />
        <asp:TemplateField HeaderText="Default Site"><ItemTemplate><%# (bool)Eval("DefaultSite") ? "Yes" : "No" %></ItemTemplate></asp:TemplateField>
        <asp:TemplateField HeaderText=""><ItemTemplate><asp:LinkButton ID="editLink" runat="server" Text="Edit" CommandName="EditSite" CommandArgument='<%# Eval("Id") %>' /></ItemTemplate></asp:TemplateField>
    </Columns>
</asp:GridView>
<asp:Button ID="addSiteButton" runat="server" Text="Add Site" OnClick="AddSite" />

<asp:Panel ID="sitePanel" runat="server" Visible="false">
<h2>WebEx Site Configuration</h2>
<table class="PropertyTable">
    <tr><td class="PropertyName">Host Name</td><td class="PropertyValue"><asp:TextBox ID="hostName" runat="server" /></td></tr>
    <tr><td class="PropertyName">Site Name</td><td class="PropertyValue"><asp:TextBox ID="siteName" runat="server" /></td></tr>
    <tr><td class="PropertyName">WebEx Participant Bandwidth</td><td class="PropertyValue"><asp:DropDownList ID="bandwidth" runat="server"><asp:ListItem>Low</asp:ListItem><asp:ListItem>Medium</asp:ListItem><asp:ListItem>High</asp:ListItem></asp:DropDownList></td></tr>
    <tr><td class="PropertyName">Default Site</td><td class="PropertyValue"><asp:RadioButtonList ID="defaultSite" runat="server" RepeatLayout="Flow" RepeatDirection="Horizontal"><asp:ListItem Value="true">Yes</asp:ListItem><asp:ListItem Value="false">No</asp:ListItem></asp:RadioButtonList></td></tr>
    <tr><td class="PropertyName">Use Global Settings</td><td class="PropertyValue"><asp:RadioButtonList ID="useGlobal" runat="server" RepeatLayout="Flow" RepeatDirection="Horizontal"><asp:ListItem Value="true">Yes</asp:ListItem><asp:ListItem Value="false">No</asp:ListItem></asp:RadioButtonList></td></tr>
    <tr><td class="PropertyName">TSP Audio</td><td class="PropertyValue"><asp:RadioButtonList ID="tspAudio" runat="server" RepeatLayout="Flow" RepeatDirection="Horizontal"><asp:ListItem Value="true">Yes</asp:ListItem><asp:ListItem Value="false">No</asp:ListItem></asp:RadioButtonList></td></tr>
    <tr><td class="PropertyName">Use Single Sign On</td><td class="PropertyValue"><asp:RadioButtonList ID="useSso" runat="server" RepeatLayout="Flow" RepeatDirection="Horizontal"><asp:ListItem Value="true">Yes</asp:ListItem><asp:ListItem Value="false">No</asp:ListItem></asp:RadioButtonList></td></tr>
    <tr><td class="PropertyName">SSO Certificate</td><td class="PropertyValue"><asp:FileUpload ID="ssoCertificate" runat="server" /></td></tr>
    <asp:Literal ID="certificateRows" runat="server" Mode="PassThrough" EnableViewState="false" />
    <tr><td class="PropertyName">Certificate Password</td><td class="PropertyValue"><asp:TextBox ID="ssoCertificatePassword" runat="server" TextMode="Password" /></td></tr>
    <tr><td class="PropertyName">SSO Partner Name</td><td class="PropertyValue"><asp:TextBox ID="ssoPartnerName" runat="server" /></td></tr>
    <tr><td class="PropertyName">SSO Account Name</td><td class="PropertyValue"><asp:TextBox ID="ssoAccountName" runat="server" /></td></tr>
    <tr><td class="PropertyName">SSO AuthnContextClassRef</td><td class="PropertyValue"><asp:TextBox ID="ssoAuthnContext" runat="server" /></td></tr>
</table>
<asp:Button ID="saveButton" runat="server" Text="Save" OnClick="SaveSite" />
<asp:Button ID="cancelButton" runat="server" Text="Cancel" OnClick="CancelSite" CausesValidation="false" />
</asp:Panel>
