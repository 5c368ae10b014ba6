<%@ Control Language="C#" %>
<%@ Import Namespace="TmsStandIn" %>
<%-- A stand-in for the TMS pages the client must not touch: a heading, a few settings, a Save button. --%>
<script runat="server">
    protected string Heading;
    protected void Page_Load(object sender, EventArgs e)
    {
        int id;
        int.TryParse(Request.QueryString["pageId"], out id);
        PageInfo p = TmsSite.Find(id);
        Heading = p != null ? p.Title : "";
    }
</script>
<h2><%= HttpUtility.HtmlEncode(Heading) %></h2>
<table class="PropertyTable">
    <tr><td class="PropertyName">Description</td><td class="PropertyValue"><asp:TextBox ID="description" runat="server" Text="Not used by the stand-in" /></td></tr>
</table>
<asp:Button ID="saveButton" runat="server" Text="Save" Enabled="false" />
