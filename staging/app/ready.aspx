<%@ Page Language="C#" EnableViewState="false" EnableSessionState="false" %>
<%-- Stand-in only (a real TMS has no such page): answered without authentication so staging/up can tell when
     the Mono backend runs; it compiles the front controller first so the first real request is warm, and
     writes the seeded settings to the data file, so that file exists (and can be compared) once up is ready. --%>
<script runat="server">
protected void Page_Load(object sender, EventArgs e)
{
    Response.ContentType = "text/plain";
    Response.Cache.SetCacheability(HttpCacheability.NoCache);
    foreach (string page in new[] { "~/default.aspx", "~/Site.master", "~/controls/Feedback.ascx",
                                     "~/controls/WebExSettings.ascx", "~/controls/StartPage.ascx",
                                     "~/controls/Decoy.ascx", "~/controls/AccessDenied.ascx", "~/controls/NotFound.ascx" })
    {
        if (System.IO.File.Exists(Server.MapPath(page)))
            System.Web.Compilation.BuildManager.GetCompiledType(page);
    }
    TmsStandIn.Store.Load();
    Response.Write("ready\n");
}
</script>
