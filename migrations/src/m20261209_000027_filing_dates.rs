//! Filings that run out: the last day each of an issuer's filings is valid (none where it has
//! no end date), the day a reviewer last accepted them, when claims paused because one ran
//! out, and a renewal waiting for a reviewer. `filing_reminders` keeps the latest reminder
//! sent to each organisation (an issuer, or the operator), so each goes out once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Issuers {
    Table,
    Status,
    LicenceValidUntil,
    IcpValidUntil,
    BlockchainValidUntil,
    FilingsCheckedOn,
    FilingsLapsedAt,
    RenewalLicenceUntil,
    RenewalIcpUntil,
    RenewalBlockchainUntil,
    RenewalSubmittedAt,
}

#[derive(DeriveIden)]
enum FilingReminders {
    Table,
    /// `issuer:<id>` or `operator`.
    Subject,
    LastDay,
    DaysBefore,
    SentAt,
}

const DATES: [Issuers; 7] = [
    Issuers::LicenceValidUntil,
    Issuers::IcpValidUntil,
    Issuers::BlockchainValidUntil,
    Issuers::FilingsCheckedOn,
    Issuers::RenewalLicenceUntil,
    Issuers::RenewalIcpUntil,
    Issuers::RenewalBlockchainUntil,
];
const TIMES: [Issuers; 2] = [Issuers::FilingsLapsedAt, Issuers::RenewalSubmittedAt];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters a table one column at a time.
        for column in DATES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Issuers::Table)
                        .add_column(date_null(column))
                        .to_owned(),
                )
                .await?;
        }
        for column in TIMES {
            manager
                .alter_table(
                    Table::alter()
                        .table(Issuers::Table)
                        .add_column(timestamp_with_time_zone_null(column))
                        .to_owned(),
                )
                .await?;
        }
        // Issuers approved before validity dates were kept count as checked today: their
        // filings are checked again within the re-check period, or renewed with dates sooner.
        manager
            .exec_stmt(
                Query::update()
                    .table(Issuers::Table)
                    .value(Issuers::FilingsCheckedOn, Expr::current_date())
                    .and_where(Expr::col(Issuers::Status).is_in(["approved", "suspended"]))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FilingReminders::Table)
                    .col(string_len(FilingReminders::Subject, 32).primary_key())
                    .col(date(FilingReminders::LastDay))
                    .col(integer(FilingReminders::DaysBefore))
                    .col(timestamp_with_time_zone(FilingReminders::SentAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FilingReminders::Table).to_owned())
            .await?;
        for column in DATES.into_iter().chain(TIMES) {
            manager
                .alter_table(Table::alter().table(Issuers::Table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
