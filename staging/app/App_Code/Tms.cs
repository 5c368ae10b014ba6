// Shared code of the TMS stand-in: the settings store, the menu, the page registry and the access check.
// Compiled by ASP.NET on first request (App_Code), no build step.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Web;
using System.Web.Script.Serialization;

namespace TmsStandIn
{
    public class CertificateInfo
    {
        public string Subject { get; set; }
        public string Issuer { get; set; }
        public string SerialNumber { get; set; }
        public string NotBefore { get; set; }   // "yyyy-MM-dd HH:mm:ssZ" (UTC)
        public string NotAfter { get; set; }    // "yyyy-MM-dd HH:mm:ssZ" (UTC)
        public string Thumbprint { get; set; }  // upper-case SHA-1 hex, as Windows shows it
        public bool HasPrivateKey { get; set; }
        public string PfxSha256 { get; set; }   // of the uploaded file, so tests can tell which file was stored
        public int PfxBytes { get; set; }
        public string UploadedAt { get; set; }
        public string UploadedBy { get; set; }
    }

    public class WebExSite
    {
        public int Id { get; set; }
        public string HostName { get; set; }
        public string SiteName { get; set; }
        public string Bandwidth { get; set; }
        public bool DefaultSite { get; set; }
        public bool UseGlobal { get; set; }
        public bool TspAudio { get; set; }
        public bool UseSso { get; set; }
        public string SsoPartnerName { get; set; }
        public string SsoAccountName { get; set; }
        public string SsoAuthnContext { get; set; }
        public CertificateInfo Certificate { get; set; }
        public int Saves { get; set; }
        public int CertificateUploads { get; set; }
        public string LastSavedAt { get; set; }
        public string LastSavedBy { get; set; }
    }

    public class WebExSettings
    {
        public bool EnableWebEx { get; set; }
        public bool AddWebExToAll { get; set; }
        public int GlobalSaves { get; set; }
        public List<WebExSite> Sites { get; set; }
        public int NextSiteId { get; set; }
    }

    public static class Store
    {
        static readonly object Gate = new object();

        public static string DataDir
        {
            get
            {
                string d = Environment.GetEnvironmentVariable("TMS_DATA_DIR");
                if (string.IsNullOrEmpty(d))
                    d = HttpRuntime.AppDomainAppPath.TrimEnd('/') + "/App_Data";
                return d;
            }
        }

        public static string FilePath { get { return Path.Combine(DataDir, "webex.json"); } }

        static WebExSettings Seed()
        {
            return new WebExSettings
            {
                EnableWebEx = true,
                AddWebExToAll = false,
                NextSiteId = 3,
                Sites = new List<WebExSite>
                {
                    new WebExSite { Id = 1, HostName = "example.webex.com", SiteName = "tms", Bandwidth = "Medium",
                                    DefaultSite = true, UseGlobal = true, TspAudio = false, UseSso = true,
                                    SsoPartnerName = "tms.example.com", SsoAccountName = "tms-sso",
                                    SsoAuthnContext = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified" },
                    new WebExSite { Id = 2, HostName = "training.webex.com", SiteName = "training",
                                    Bandwidth = "Low", DefaultSite = false, UseGlobal = true, TspAudio = true,
                                    UseSso = false, SsoPartnerName = "", SsoAccountName = "", SsoAuthnContext = "" },
                },
            };
        }

        public static WebExSettings Load()
        {
            lock (Gate)
            {
                if (!File.Exists(FilePath))
                {
                    WebExSettings s = Seed();
                    SaveLocked(s);
                    return s;
                }
                return new JavaScriptSerializer().Deserialize<WebExSettings>(
                    File.ReadAllText(FilePath, Encoding.UTF8));
            }
        }

        /// Load, change, save under one lock (concurrent requests cannot lose each other's writes).
        public static WebExSettings Update(Action<WebExSettings> change)
        {
            lock (Gate)
            {
                WebExSettings s = Load();
                change(s);
                SaveLocked(s);
                return s;
            }
        }

        static void SaveLocked(WebExSettings s)
        {
            Directory.CreateDirectory(DataDir);
            string tmp = FilePath + ".tmp";
            File.WriteAllText(tmp, new JavaScriptSerializer().Serialize(s), new UTF8Encoding(false));
            if (File.Exists(FilePath))
                File.Replace(tmp, FilePath, null);
            else
                File.Move(tmp, FilePath);
        }

        public static string Now()
        {
            return DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm:ss") + "Z";
        }

        public static string FormatTime(DateTime t)
        {
            return t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss") + "Z";
        }
    }

    public class PageInfo
    {
        public int Id;
        public string Title;
        public string[] MenuPath;       // e.g. Administrative Tools / Configuration / WebEx Settings
        public bool Configuration;      // Site Administrators only
        public string Control;          // user control that renders the page body
    }

    public static class TmsSite
    {
        public const int StartPageId = 1;

        public static int WebExPageId
        {
            get
            {
                int id;
                string v = Environment.GetEnvironmentVariable("TMS_WEBEX_PAGE_ID");
                return int.TryParse(v, out id) ? id : 83;
            }
        }

        public static List<PageInfo> Pages
        {
            get
            {
                return new List<PageInfo>
                {
                    new PageInfo { Id = StartPageId, Title = "Home", MenuPath = null, Control = "~/controls/StartPage.ascx" },
                    new PageInfo { Id = 35, Title = "New Conference", MenuPath = new[] { "Booking", "New Conference" },
                                   Control = "~/controls/Decoy.ascx" },
                    new PageInfo { Id = 36, Title = "List Conferences", MenuPath = new[] { "Booking", "List Conferences" },
                                   Control = "~/controls/Decoy.ascx" },
                    new PageInfo { Id = 79, Title = "Conference Control Center",
                                   MenuPath = new[] { "Monitoring", "Conference Control Center" }, Control = "~/controls/Decoy.ascx" },
                    new PageInfo { Id = 77, Title = "Navigator", MenuPath = new[] { "Systems", "Navigator" },
                                   Control = "~/controls/Decoy.ascx" },
                    new PageInfo { Id = 116, Title = "General Settings",
                                   MenuPath = new[] { "Administrative Tools", "Configuration", "General Settings" },
                                   Configuration = true, Control = "~/controls/Decoy.ascx" },
                    new PageInfo { Id = 117, Title = "Network Settings",
                                   MenuPath = new[] { "Administrative Tools", "Configuration", "Network Settings" },
                                   Configuration = true, Control = "~/controls/Decoy.ascx" },
                    new PageInfo { Id = 118, Title = "E-mail Settings",
                                   MenuPath = new[] { "Administrative Tools", "Configuration", "E-mail Settings" },
                                   Configuration = true, Control = "~/controls/Decoy.ascx" },
                    new PageInfo { Id = WebExPageId, Title = "WebEx Settings",
                                   MenuPath = new[] { "Administrative Tools", "Configuration", "WebEx Settings" },
                                   Configuration = true, Control = "~/controls/WebExSettings.ascx" },
                    new PageInfo { Id = 140, Title = "Users",
                                   MenuPath = new[] { "Administrative Tools", "User Administration", "Users" },
                                   Configuration = false, Control = "~/controls/Decoy.ascx" },
                };
            }
        }

        public static PageInfo Find(int id)
        {
            return Pages.FirstOrDefault(p => p.Id == id);
        }

        class Node
        {
            public string Text;
            public string Href = "#";
            public List<Node> Children = new List<Node>();
        }

        /// The nested menu: <li><a href="...">Text</a><ul>...</ul></li>; only leaves have real hrefs.
        public static string MenuHtml()
        {
            var root = new Node();
            foreach (PageInfo p in Pages)
            {
                if (p.MenuPath == null) continue;
                Node n = root;
                for (int i = 0; i < p.MenuPath.Length; i++)
                {
                    Node child = n.Children.FirstOrDefault(c => c.Text == p.MenuPath[i]);
                    if (child == null)
                    {
                        child = new Node { Text = p.MenuPath[i] };
                        n.Children.Add(child);
                    }
                    if (i == p.MenuPath.Length - 1)
                        child.Href = "default.aspx?pageId=" + p.Id;
                    n = child;
                }
            }
            // Top-level order as TMS shows it
            string[] order = { "Booking", "Monitoring", "Systems", "Administrative Tools" };
            root.Children = root.Children.OrderBy(c => Array.IndexOf(order, c.Text)).ToList();
            var sb = new StringBuilder();
            foreach (Node c in root.Children) Render(sb, c);
            return sb.ToString();
        }

        static void Render(StringBuilder sb, Node n)
        {
            sb.Append("<li><a href=\"").Append(HttpUtility.HtmlAttributeEncode(n.Href)).Append("\">")
              .Append(HttpUtility.HtmlEncode(n.Text)).Append("</a>");
            if (n.Children.Count > 0)
            {
                sb.Append("<ul>");
                foreach (Node c in n.Children) Render(sb, c);
                sb.Append("</ul>");
            }
            sb.Append("</li>");
        }

        /// The Windows user Apache authenticated: "DOMAIN\user", or "user" when the client sent no domain.
        /// Apache sets X-Remote-User from REMOTE_USER after removing any client-sent copy.
        public static string CurrentUser(HttpRequest request)
        {
            string u = request.Headers["X-Remote-User"];
            if (string.IsNullOrEmpty(u))
                u = request.ServerVariables["REMOTE_USER"];
            return u ?? "";
        }

        /// Site Administrators from TMS_ADMINS (comma-separated). An entry "DOMAIN\user" matches that account;
        /// an entry "user" matches the user in any domain or Kerberos realm. Case-insensitive, as Windows account
        /// names are.
        public static bool IsSiteAdministrator(string user)
        {
            if (string.IsNullOrEmpty(user)) return false;
            string bare = user.Contains("\\") ? user.Substring(user.LastIndexOf('\\') + 1) : user;
            // A Kerberos login arrives as user@REALM (mod_auth_gssapi's REMOTE_USER; IIS would say DOMAIN\user).
            if (bare.Contains("@")) bare = bare.Substring(0, bare.IndexOf('@'));
            string admins = Environment.GetEnvironmentVariable("TMS_ADMINS") ?? "";
            foreach (string raw in admins.Split(','))
            {
                string a = raw.Trim();
                if (a.Length == 0) continue;
                if (a.Contains("\\"))
                {
                    if (string.Equals(a, user, StringComparison.OrdinalIgnoreCase)) return true;
                }
                else if (string.Equals(a, bare, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
            return false;
        }

        /// "on" (default): the site form shows the stored certificate's subject, expiry and thumbprint;
        /// "off": only "Certificate Installed: Yes/No".
        public static bool ShowCertificateDetails
        {
            get
            {
                string v = Environment.GetEnvironmentVariable("TMS_CERT_DETAILS");
                return !string.Equals(v, "off", StringComparison.OrdinalIgnoreCase);
            }
        }
    }
}
