/*
 * help.c - `scimd help [AREA] [--man] [--json]` and `scimd version`, all
 * generated from the command table and the settings table, so the summary,
 * the per-area help and the scimd(8) manual page cannot drift from what the
 * binary accepts.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/version.h"

#define HELP_WIDTH 100 /* columns of wrapped help text */

/* ---- text ---------------------------------------------------------------------------------- */

/* Print text wrapped at HELP_WIDTH, every line indented by indent spaces. */
static void print_wrapped(FILE *out, const char *text, int indent)
{
    const char *p = text;
    while (*p) {
        int room = HELP_WIDTH - indent;
        size_t n = strlen(p);
        if ((int)n > room) {
            n = (size_t)room;
            while (n > 0 && p[n] != ' ')
                n--;
            if (n == 0)
                n = (size_t)room;
        }
        size_t shown = n;
        while (shown > 0 && p[shown - 1] == ' ')
            shown--;
        fprintf(out, "%*s%.*s\n", indent, "", (int)shown, p);
        p += n;
        while (*p == ' ')
            p++;
    }
}

/* "--name ARG" of a setting, into out of size bytes. */
static const char *setting_flag(const struct config_option *o, char *out, size_t size)
{
    snprintf(out, size, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
    return out;
}

static void print_setting(FILE *out, const struct config_option *o)
{
    char flag[96], env[96], line[512];
    setting_flag(o, flag, sizeof(flag));
    config_env_name(o->name, env, sizeof(env));
    fprintf(out, "  %s\n", flag);
    snprintf(line, sizeof(line), "%s (default: %s; env %s)", o->help,
             o->fallback ? o->fallback : "none", env);
    print_wrapped(out, line, 6);
}

void cli_help_print(FILE *out)
{
    fprintf(out, "usage: scimd COMMAND [--db PATH|URL] [--config FILE] [--json]\n\ncommands:\n");
    for (size_t i = 0; i < cli_n_commands; i++)
        fprintf(out, "  scimd %s\n", cli_commands[i].usage);
    fprintf(out, "\n--db defaults to $SCIMD_DB, else the config file's db, else " CLI_DEFAULT_DB
                 "\nthe config file is --config, else $SCIMD_CONFIG, else " CLI_DEFAULT_CONFIG
                 " if present\n'scimd help AREA' describes an area's commands (and serve's "
                 "settings); 'scimd help --man' prints scimd(8)\n");
}

static int print_area(const char *area)
{
    bool found = false, settings = false;
    for (size_t i = 0; i < cli_n_commands; i++) {
        const struct cli_command *c = &cli_commands[i];
        if (strcmp(c->area, area) != 0)
            continue;
        found = true;
        settings = settings || c->settings;
        printf("scimd %s\n", c->usage);
        print_wrapped(stdout, c->help, 4);
        printf("\n");
    }
    if (!found)
        return cli_usage_error("unknown command '%s'", area);
    if (settings) {
        printf("settings (flags; also SCIMD_* variables and config file keys, flags winning):\n");
        for (size_t i = 0; i < cli_n_settings; i++)
            print_setting(stdout, &cli_settings[i]);
    }
    return CLI_EXIT_OK;
}

static void print_help_json(void)
{
    json_t *commands = json_array(), *settings = json_array();
    for (size_t i = 0; i < cli_n_commands; i++) {
        const struct cli_command *c = &cli_commands[i];
        json_array_append_new(commands,
                              json_pack("{s:s,s:o,s:s,s:s}", "area", c->area, "verb",
                                        cli_nullable(c->verb), "usage", c->usage, "help", c->help));
    }
    for (size_t i = 0; i < cli_n_settings; i++) {
        const struct config_option *o = &cli_settings[i];
        char env[96];
        config_env_name(o->name, env, sizeof(env));
        json_array_append_new(settings,
                              json_pack("{s:s,s:o,s:s,s:s}", "name", o->name, "default",
                                        cli_nullable(o->fallback), "env", env, "help", o->help));
    }
    cli_print_json(json_pack("{s:s,s:o,s:o}", "version", SCIMD_VERSION, "commands", commands,
                             "settings", settings));
}

/* ---- roff ---------------------------------------------------------------------------------- */

/* Text safe in roff: backslash, minus and quote escaped, no control line at the start. */
static void roff(FILE *out, const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", out);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", out);
        else if (*s == '-')
            fputs("\\-", out);
        else if (*s == '"')
            fputs("\\(dq", out);
        else
            fputc(*s, out);
    }
}

/* A tagged paragraph: head in bold, then body. */
static void roff_item(FILE *out, const char *head, const char *body)
{
    fputs(".TP\n.B \"", out);
    roff(out, head);
    fputs("\"\n", out);
    roff(out, body);
    fputc('\n', out);
}

static void print_man(FILE *out)
{
    fprintf(out,
            ".\\\" scimd(8), generated by 'scimd help --man' from the command and settings "
            "tables; do not edit.\n"
            ".TH SCIMD 8 \"\" \"scimd %s\" \"System Manager's Manual\"\n.nh\n.ad l\n",
            SCIMD_VERSION);
    fputs(".SH NAME\nscimd \\- multi\\-tenant SCIM 2.0 identity server\n"
          ".SH SYNOPSIS\n.B scimd\n.I COMMAND\n.RB [ \\-\\-db\n.IR PATH|URL ]\n"
          ".RB [ \\-\\-config\n.IR FILE ]\n.RB [ \\-\\-json ]\n"
          ".SH DESCRIPTION\n"
          "scimd receives SCIM 2.0 provisioning (RFC 7643, RFC 7644) from identity providers "
          "(Okta, Microsoft Entra ID, OneLogin, Ping, JumpCloud and others) into a multi\\-tenant "
          "directory kept in SQLite or PostgreSQL.  The same binary runs the server "
          "(\\fBscimd serve\\fR) and administers it: tenants, IdP connections, tokens, users and "
          "the audit log.\n"
          ".PP\nEvery command takes \\fB\\-\\-db\\fR (default: \\fBSCIMD_DB\\fR, else the config "
          "file's \\fBdb\\fR, else \\fI./scimd.db\\fR), \\fB\\-\\-config\\fR and "
          "\\fB\\-\\-json\\fR (print results as JSON).  Secrets are never taken from the command "
          "line and never printed, except a new token once.\n"
          ".SH COMMANDS\n",
          out);
    for (size_t i = 0; i < cli_n_commands; i++) {
        char head[256];
        snprintf(head, sizeof(head), "scimd %s", cli_commands[i].usage);
        roff_item(out, head, cli_commands[i].help);
    }
    fputs(".SH CONFIGURATION\n"
          "\\fBscimd serve\\fR reads its settings from, in rising order of precedence: the "
          "defaults below, the config file, \\fBSCIMD_*\\fR environment variables, and flags.  "
          "The config file is \\fB\\-\\-config\\fR \\fIFILE\\fR, else \\fBSCIMD_CONFIG\\fR, else "
          "\\fI" CLI_DEFAULT_CONFIG "\\fR when it exists; it holds \\fIkey\\fR \\fB=\\fR "
          "\\fIvalue\\fR lines whose keys are the flag names (\\fB#\\fR starts a comment).  "
          "The variable of a setting is its name in capitals with \\fB_\\fR for \\fB\\-\\fR, "
          "after \\fBSCIMD_\\fR.  Every value is checked at start; "
          "\\fBscimd serve \\-\\-print\\-config\\fR prints the effective settings with their "
          "source (flag, env, file or default), passwords masked, and exits.  The other commands "
          "read \\fBdb\\fR, \\fBdb\\-pool\\fR, \\fBpublic\\-url\\fR and the log settings from the "
          "same places.\n",
          out);
    for (size_t i = 0; i < cli_n_settings; i++) {
        const struct config_option *o = &cli_settings[i];
        char env[96];
        config_env_name(o->name, env, sizeof(env));
        char flag[96];
        roff_item(out, setting_flag(o, flag, sizeof(flag)), o->help);
        fputs(".br\nDefault: ", out);
        roff(out, o->fallback ? o->fallback : "none");
        fputs(".  Environment: \\fB", out);
        roff(out, env);
        fputs("\\fR.  File key: \\fB", out);
        roff(out, o->name);
        fputs("\\fR.\n", out);
    }
    fputs(".SH ENVIRONMENT\n.TP\n.B SCIMD_CONFIG\nThe config file when \\fB\\-\\-config\\fR "
          "is not given.\n",
          out);
    for (size_t i = 0; i < cli_n_settings; i++) {
        char env[96], flag[96], text[160];
        config_env_name(cli_settings[i].name, env, sizeof(env));
        snprintf(text, sizeof(text), "The setting %s.",
                 setting_flag(&cli_settings[i], flag, sizeof(flag)));
        roff_item(out, env, text);
    }
    fputs(".SH FILES\n.TP\n.I " CLI_DEFAULT_CONFIG
          "\nThe config file (installed only when absent).\n"
          ".TP\n.I /var/lib/scimd/scimd.db\nThe SQLite database of the systemd service "
          "(its StateDirectory).\n"
          ".SH SIGNALS\n"
          "\\fBSIGTERM\\fR and \\fBSIGINT\\fR stop the server after the requests in flight; "
          "\\fBSIGHUP\\fR (systemctl reload) re\\-reads the TLS certificate and key "
          "(\\fB\\-\\-tls\\-cert\\fR, \\fB\\-\\-tls\\-key\\fR); other settings take effect "
          "on restart.\n"
          ".SH EXIT STATUS\n0 on success, 1 when the command failed, 2 for a usage error "
          "(unknown command or option, bad setting).\n"
          ".SH SEE ALSO\n.BR systemd.exec (5),\n.BR systemctl (1)\n",
          out);
}

int cli_help(struct cli *cli)
{
    if (cli->n_args > 1)
        return cli_usage(cli);
    if (cli_flag(cli, "man")) {
        print_man(stdout);
        return CLI_EXIT_OK;
    }
    if (cli->n_args == 1)
        return print_area(cli->args[0]);
    if (cli->json)
        print_help_json();
    else
        cli_help_print(stdout);
    return CLI_EXIT_OK;
}

int cli_version(struct cli *cli)
{
    if (cli->json)
        cli_print_json(json_pack("{s:s}", "version", SCIMD_VERSION));
    else
        printf("scimd %s\n", SCIMD_VERSION);
    return CLI_EXIT_OK;
}
