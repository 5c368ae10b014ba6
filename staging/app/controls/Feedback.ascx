<%@ Control Language="C#" %>
<%@ Implements Interface="TmsStandIn.IFeedback" %>
<asp:Label ID="uxErrorLabel" runat="server" CssClass="ErrorLabel" EnableViewState="false" />
<asp:Label ID="uxInfoLabel" runat="server" CssClass="InfoLabel" EnableViewState="false" />
<script runat="server">
    public void Error(string message) { uxErrorLabel.Text = HttpUtility.HtmlEncode(message); }
    public void Info(string message) { uxInfoLabel.Text = HttpUtility.HtmlEncode(message); }
</script>
