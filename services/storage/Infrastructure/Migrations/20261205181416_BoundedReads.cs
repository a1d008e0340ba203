using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Finstage.Storage.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class BoundedReads : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "summary_length",
                table: "articles",
                type: "int",
                nullable: true,
                computedColumnSql: "CHAR_LENGTH(`summary`)",
                stored: true);

            migrationBuilder.AddColumn<string>(
                name: "summary_preview",
                table: "articles",
                type: "varchar(500)",
                maxLength: 500,
                nullable: true,
                computedColumnSql: "LEFT(`summary`, 500)",
                stored: true,
                collation: "utf8mb4_unicode_ci")
                .Annotation("MySql:CharSet", "utf8mb4");

            migrationBuilder.CreateTable(
                name: "symbol_stats",
                columns: table => new
                {
                    symbol = table.Column<string>(type: "varchar(128)", maxLength: 128, nullable: false, collation: "utf8mb4_unicode_ci")
                        .Annotation("MySql:CharSet", "utf8mb4"),
                    article_count = table.Column<int>(type: "int", nullable: false),
                    newest_article_at = table.Column<DateTime>(type: "datetime(6)", precision: 6, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_symbol_stats", x => x.symbol);
                })
                .Annotation("MySql:CharSet", "utf8mb4")
                .Annotation("Relational:Collation", "utf8mb4_unicode_ci");

            // The counts of the links stored so far, once; from here on the write path keeps them (SymbolStatsStatements).
            // Run with the service stopped, as the migrate step is: links written meanwhile by an older build would be missed.
            migrationBuilder.Sql(
                "INSERT INTO `symbol_stats` (`symbol`, `article_count`, `newest_article_at`)" +
                " SELECT `symbol`, COUNT(*), MAX(`sort_at`) FROM `article_symbols` GROUP BY `symbol`;");

            migrationBuilder.CreateIndex(
                name: "ix_crawl_runs_source_status_finished",
                table: "crawl_runs",
                columns: new[] { "source", "status", "finished_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "symbol_stats");

            migrationBuilder.DropIndex(
                name: "ix_crawl_runs_source_status_finished",
                table: "crawl_runs");

            migrationBuilder.DropColumn(
                name: "summary_length",
                table: "articles");

            migrationBuilder.DropColumn(
                name: "summary_preview",
                table: "articles");
        }
    }
}
