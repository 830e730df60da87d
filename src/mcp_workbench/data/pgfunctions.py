"""Which functions a read on PostgreSQL may call: an allow-list, judged on resolved names.

A deny-list of dangerous functions can always be spelled around or outgrown by the next
extension; so a read calls only functions known to have no side effect:

- every built-in function whose every overload PostgreSQL marks IMMUTABLE
  (:data:`~mcp_workbench.data.pgbuiltins.IMMUTABLE_BUILTINS`: math, string, pattern, array,
  JSON, geometry, network, full-text parsing, conversions, casts);
- the built-in aggregates and window functions;
- the STABLE and VOLATILE built-ins listed below by category (time, formatting, JSON building,
  full-text queries, catalog introspection, sizes, randomness), each of which only reads;
- per source, what the operator lists in ``allow_functions`` (their own functions).

Names are compared as PostgreSQL resolves them (see :mod:`pglex`): unqualified, or qualified
by ``pg_catalog`` for built-ins; any other schema only when the operator lists ``schema.name``.
Functions that run SQL given as text or open connections (``query_to_xml``, ``ts_stat``,
``dblink*``), touch server files, sleep, change settings or take advisory locks (which would
outlive the read on a pooled connection) are refused even when the operator lists them.
"""

from __future__ import annotations

from collections.abc import Iterable

from mcp_workbench.data.pgbuiltins import IMMUTABLE_BUILTINS
from mcp_workbench.data.pglex import Call, words

_AGGREGATES_AND_WINDOWS = words(
    """
    array_agg avg bit_and bit_or bit_xor bool_and bool_or corr count covar_pop covar_samp every json_agg
    json_object_agg jsonb_agg jsonb_object_agg max min mode percentile_cont percentile_disc range_agg
    range_intersect_agg regr_avgx regr_avgy regr_count regr_intercept regr_r2 regr_slope regr_sxx regr_sxy
    regr_syy stddev stddev_pop stddev_samp string_agg sum var_pop var_samp variance xmlagg
    cume_dist dense_rank first_value lag last_value lead nth_value ntile percent_rank rank row_number
    """
)
_STABLE_READS = words(
    """
    age clock_timestamp date date_part date_trunc extract make_timestamptz now statement_timestamp time timeofday
    timestamp timestamptz timetz timezone transaction_timestamp generate_series overlaps in_range
    concat concat_ws convert convert_from convert_to format length money numeric quote_literal quote_nullable
    to_char to_date to_number to_timestamp anytextcat textanycat
    array_to_json array_to_string json_build_array json_build_object jsonb_build_array jsonb_build_object
    json_populate_record json_populate_recordset json_to_record json_to_recordset jsonb_populate_record
    jsonb_populate_recordset jsonb_to_record jsonb_to_recordset row_to_json to_json to_jsonb
    jsonb_path_exists_tz jsonb_path_match_tz jsonb_path_query_tz jsonb_path_query_array_tz jsonb_path_query_first_tz
    enum_first enum_last enum_range
    to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery json_to_tsvector jsonb_to_tsvector
    ts_headline ts_debug ts_parse ts_token_type ts_match_tq ts_match_tt get_current_ts_config
    xml xml_is_well_formed
    current_database current_schema current_schemas current_setting current_user session_user version
    getdatabaseencoding pg_client_encoding pg_encoding_to_char pg_char_to_encoding pg_backend_pid
    pg_postmaster_start_time pg_conf_load_time pg_is_in_recovery pg_jit_available
    format_type pg_typeof pg_collation_for pg_column_size pg_column_compression col_description obj_description
    shobj_description pg_describe_object pg_identify_object pg_get_keywords oidvectortypes
    pg_get_constraintdef pg_get_expr pg_get_function_arguments pg_get_function_identity_arguments
    pg_get_function_result pg_get_functiondef pg_get_indexdef pg_get_ruledef pg_get_serial_sequence
    pg_get_triggerdef pg_get_userbyid pg_get_viewdef pg_get_partkeydef pg_get_partition_constraintdef
    pg_get_statisticsobjdef pg_options_to_table pg_index_column_has_property pg_index_has_property
    pg_indexam_has_property pg_relation_is_updatable pg_column_is_updatable pg_timezone_abbrevs pg_timezone_names
    pg_table_is_visible pg_type_is_visible pg_function_is_visible pg_operator_is_visible pg_opclass_is_visible
    pg_opfamily_is_visible pg_collation_is_visible pg_conversion_is_visible pg_statistics_obj_is_visible
    pg_ts_config_is_visible pg_ts_dict_is_visible pg_ts_parser_is_visible pg_ts_template_is_visible
    has_any_column_privilege has_column_privilege has_database_privilege has_foreign_data_wrapper_privilege
    has_function_privilege has_language_privilege has_parameter_privilege has_schema_privilege
    has_sequence_privilege has_server_privilege has_table_privilege has_tablespace_privilege has_type_privilege
    pg_has_role row_security_active
    to_regclass to_regcollation to_regnamespace to_regoper to_regoperator to_regproc to_regprocedure to_regrole
    to_regtype regclass
    pg_database_size pg_relation_size pg_table_size pg_indexes_size pg_total_relation_size
    random gen_random_uuid
    """
)
# Syntax PostgreSQL parses as a call of these names: GROUP BY CUBE(...)/ROLLUP(...), TABLESAMPLE methods.
_SYNTAX_NAMES = frozenset({"cube", "rollup", "bernoulli", "system"})

BUILTIN_ALLOWED = IMMUTABLE_BUILTINS | _AGGREGATES_AND_WINDOWS | _STABLE_READS | _SYNTAX_NAMES

# Refused whatever the configuration says: they run SQL passed as text (with their own checks,
# or in another session), open connections, reach the server's files or other sessions, change
# settings, sleep, or take locks that outlive the read on a pooled connection.
_NEVER_PREFIXES = ("dblink", "pg_advisory", "pg_try_advisory", "lo_", "pg_ls_", "pg_read_", "pg_file_", "pg_sleep")
_NEVER = words(
    """
    query_to_xml query_to_xml_and_xmlschema query_to_xmlschema cursor_to_xml cursor_to_xmlschema table_to_xml
    table_to_xml_and_xmlschema table_to_xmlschema schema_to_xml schema_to_xml_and_xmlschema schema_to_xmlschema
    database_to_xml database_to_xml_and_xmlschema database_to_xmlschema ts_stat ts_rewrite
    set_config pg_stat_file pg_terminate_backend pg_cancel_backend pg_reload_conf pg_rotate_logfile pg_notify
    nextval setval setseed lowrite loread pg_logdir_ls pg_switch_wal pg_create_restore_point pg_export_snapshot
    """
)


def never_allowed(name: str) -> bool:
    """A function that no configuration can allow on a read."""
    return name in _NEVER or name.startswith(_NEVER_PREFIXES)


def refusal(call: Call, extra: Iterable[str] = ()) -> str | None:
    """Why this call may not run on a read (None when it may). ``extra`` is the source's
    ``allow_functions``: ``name`` for any schema on the search path, ``schema.name`` for one."""
    if never_allowed(call.name):
        return "it runs SQL given as text, opens connections, reaches server files or sessions, or takes locks"
    allowed = frozenset(extra)
    if call.schema is None:
        listed = call.name in BUILTIN_ALLOWED or call.name in allowed
    else:
        listed = (call.schema == "pg_catalog" and call.name in BUILTIN_ALLOWED) or str(call) in allowed
    return None if listed else "it is not on the list of functions known to only read"
